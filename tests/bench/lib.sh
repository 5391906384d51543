# Helpers shared by the benchmark scripts (sourced, not run).

# free_port: an ephemeral port on 127.0.0.1 that is free right now
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# nginx_conf DIR SERVER_BLOCK: write DIR/nginx.conf for a foreground nginx,
# one worker, no access log, every temp path inside DIR, with the given
# `server { ... }` block; prints the nginx binary to run, or fails when
# nginx is not installed. Run it as: $NGINX -p DIR -c DIR/nginx.conf
nginx_conf() {
    local dir=$1 server=$2 bin
    bin=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$bin" ] || return 1
    mkdir -p "$dir/logs" "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    fastcgi_temp_path $dir/tmp;
    uwsgi_temp_path $dir/tmp;
    scgi_temp_path $dir/tmp;
    $server
}
EOF
    echo "$bin"
}
