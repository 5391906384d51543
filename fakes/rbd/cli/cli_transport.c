/*
 * cli_transport.c - the executables' side of the tool protocol.
 *
 * Never contacts anything but loopback: a `-m` naming a real monitor
 * (Kubernetes passes `-m 10.0.0.1:6789`) is recorded by the store in the
 * audit log with the rest of argv, but the request goes to EFKSIM_RBD_MON.
 * When neither names a reachable store the tool behaves as with an
 * unreachable monitor (it waits client_mount_timeout, then fails).
 */
#include "cli_transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/duration.h"

#define REPLY_CAP (64u << 20)

typedef struct cli_ctx {
    CURL *curl;
    char base[300]; /* "http://127.0.0.1:PORT/rbd/v1/op/" or "" */
} cli_ctx;

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    buf *b = arg;
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

static json_t *cli_call(void *arg, const char *op, const json_t *body)
{
    cli_ctx *c = arg;
    if (!c->curl || !c->base[0])
        return NULL;
    char url[400];
    snprintf(url, sizeof(url), "%s%s", c->base, op);
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return NULL;
    buf reply;
    buf_init(&reply, REPLY_CAP);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "efksim-rbd-cli");
    CURLcode rc = curl_easy_perform(c->curl);
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(text);
    json_t *j = NULL;
    if (rc == CURLE_OK && reply.len) {
        json_error_t je;
        j = json_loadb(reply.data, reply.len, 0, &je);
    }
    buf_cleanup(&reply);
    if (rc == CURLE_OK && status != 200) {
        /* The store refused the request (a bug of the fake or a request over
         * its caps): say so and stop, rather than pass for a cluster that
         * does not answer (which would wait client_mount_timeout). */
        const char *e = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "efksim: the rbd store refused %s (HTTP %ld): %s\n", op, status,
                e ? e : "(no reason)");
        exit(1);
    }
    return j;
}

static void cli_sleep(void *arg, int64_t ms)
{
    (void)arg;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* The first monitor of a -m list, when it is a loopback host:port. */
static bool loopback_mon(const char *list, char *out, size_t outsz)
{
    char first[256];
    size_t n = strcspn(list, ", ;");
    if (n == 0 || n >= sizeof(first))
        return false;
    snprintf(first, sizeof(first), "%.*s", (int)n, list);
    const char *p = first;
    if (*p == '[')
        p++;
    if (strncmp(p, "v1:", 3) == 0 || strncmp(p, "v2:", 3) == 0)
        p += 3;
    char host[256];
    snprintf(host, sizeof(host), "%s", p);
    char *slash = strchr(host, '/');
    if (slash)
        *slash = '\0';
    char *bracket = strchr(host, ']');
    if (bracket)
        *bracket = '\0';
    if (strncmp(host, "127.", 4) != 0 && strncmp(host, "localhost:", 10) != 0)
        return false;
    if (!strchr(host, ':'))
        return false;
    snprintf(out, outsz, "%s", host);
    return true;
}

static const char *mon_from_argv(int argc, char **argv, char *out, size_t outsz)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if ((strcmp(a, "-m") == 0 || strcmp(a, "--mon_host") == 0 ||
             strcmp(a, "--mon-host") == 0) &&
            i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(a, "--mon_host=", 11) == 0 || strncmp(a, "--mon-host=", 11) == 0)
            v = a + 11;
        else if (strncmp(a, "-m", 2) == 0 && a[2])
            v = a + 2;
        if (v && loopback_mon(v, out, outsz))
            return out;
    }
    return NULL;
}

/* `mon host` from a ceph.conf (-c/--conf, else $CEPH_CONF), as librados
 * reads it: "mon host", "mon_host" and "mon-host" are the same key, in any
 * section. Only a loopback monitor is taken. */
static const char *mon_from_conf(int argc, char **argv, char *out, size_t outsz)
{
    const char *path = getenv("CEPH_CONF");
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--conf") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--conf=", 7) == 0)
            path = argv[i] + 7;
    }
    if (!path || !*path)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    const char *found = NULL;
    while (!found && fgets(line, sizeof(line), f)) {
        char key[64];
        size_t k = 0;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        while (*p && *p != '=' && k < sizeof(key) - 1) {
            char ch = *p == ' ' || *p == '-' ? '_' : *p;
            key[k++] = ch;
            p++;
        }
        while (k && key[k - 1] == '_')
            k--;
        key[k] = '\0';
        if (*p != '=' || strcmp(key, "mon_host") != 0)
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        char val[512];
        snprintf(val, sizeof(val), "%s", p);
        val[strcspn(val, "\r\n#;")] = '\0';
        if (loopback_mon(val, out, outsz))
            found = out;
    }
    fclose(f);
    return found;
}

int cli_main(int argc, char **argv, cli_tool_fn fn)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cli_ctx c;
    memset(&c, 0, sizeof(c));
    char mbuf[256];
    const char *mon = mon_from_argv(argc, argv, mbuf, sizeof(mbuf));
    if (!mon)
        mon = mon_from_conf(argc, argv, mbuf, sizeof(mbuf));
    if (!mon)
        mon = getenv("EFKSIM_RBD_MON");
    if (mon && *mon) {
        const char *hp = strncmp(mon, "http://", 7) == 0 ? mon + 7 : mon;
        snprintf(c.base, sizeof(c.base), "http://%s/rbd/v1/op/", hp);
        c.curl = curl_easy_init();
    }
    rbd_tool_env env;
    memset(&env, 0, sizeof(env));
    env.node_ip = getenv("EFKSIM_NODE_IP");
    const char *nonce = getenv("EFKSIM_RBD_NONCE");
    if (nonce && *nonce)
        env.nonce = (uint32_t)strtoul(nonce, NULL, 10);
    env.release = getenv("EFKSIM_RBD_RELEASE");
    const char *mt = getenv("EFKSIM_RBD_MOUNT_TIMEOUT");
    int64_t ns = 0;
    if (mt && duration_parse(mt, &ns) == 0)
        env.mount_timeout_ms = ns / 1000000;
    env.pid = (int)getpid();
    env.wall_ns = clock_wall_ns(clock_system());
    rbd_transport t = {cli_call, cli_sleep, &c};
    rbd_tool_result res;
    rbd_tool_result_init(&res);
    fn(argc, argv, &env, &t, &res);
    if (c.curl)
        curl_easy_cleanup(c.curl);
    curl_global_cleanup();
    if (res.err.len)
        fwrite(res.err.data, 1, res.err.len, stderr);
    if (res.out.len)
        fwrite(res.out.data, 1, res.out.len, stdout);
    fflush(stderr);
    fflush(stdout);
    int code = res.exit_code;
    bool hang = res.hang;
    rbd_tool_result_cleanup(&res);
    if (hang)
        for (;;)
            pause(); /* a command that never returns, until killed */
    return code & 0xff;
}
