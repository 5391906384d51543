#!/bin/bash
# curl against the fake Elasticsearch: every malformed-input case, each
# persona's _type rule and root document, security, 413, gzip, and the
# request/item faults. Each check compares the HTTP status and the error
# type (or the field that matters) with what the real server answers.
#
# usage: curl_cases.sh   (EFKSIM_BUILD_DIR points at the build tree)
set -u
BIN="${EFKSIM_BUILD_DIR:?}/bin/es_testserver"
TMP=$(mktemp -d)
PASS=0
FAIL=0
SERVER_PID=
FIFO=

cleanup() {
    stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_server JSON: a fake with that fakes.es config; sets URL.
start_server() {
    stop_server
    NSERVER=$((${NSERVER:-0} + 1))
    FIFO="$TMP/in.$NSERVER"
    mkfifo "$FIFO"
    # files of its own: the shell truncates a reused one only once the child
    # runs, so the wait below could read the previous server's "ready" and URL
    OUT="$TMP/server.$NSERVER.out"
    ERR="$TMP/server.$NSERVER.err"
    "$BIN" -c "$1" -s 7 <"$FIFO" >"$OUT" 2>"$ERR" &
    SERVER_PID=$!
    exec 9>"$FIFO" # keeps its stdin open; closing it stops the server
    local deadline=$((SECONDS + 10))
    while ! grep -q '^ready$' "$OUT" 2>/dev/null; do
        if ((SECONDS > deadline)) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server did not start: $(cat "$ERR")"
            exit 1
        fi
        sleep 0.02
    done
    URL=$(sed -n 's/^EFKSIM_ES_URL=//p' "$OUT")
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        exec 9>&-
        wait "$SERVER_PID" 2>/dev/null
        local rc=$?
        SERVER_PID=
        # a clean stop: exit 0 and nothing from the sanitizers
        if [ $rc -ne 0 ] || grep -q "Sanitizer\|runtime error" "$ERR" 2>/dev/null; then
            FAIL=$((FAIL + 1))
            echo "FAIL server stop: exit $rc"
            head -40 "$ERR"
        fi
    fi
}

# req METHOD PATH [curl args...]: sets STATUS, BODY (and HEADERS)
req() {
    local m=$1 p=$2
    shift 2
    local how=(-X "$m")
    [ "$m" == HEAD ] && how=(-I)
    STATUS=$(curl -s -m 20 -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "${how[@]}" "$@" "$URL$p")
    BODY=$(cat "$TMP/body")
    HEADERS=$(cat "$TMP/headers")
}

NDJSON=(-H 'Content-Type: application/x-ndjson')

check() { # name, actual, expected
    if [ "$2" == "$3" ]; then
        PASS=$((PASS + 1))
    else
        FAIL=$((FAIL + 1))
        echo "FAIL $1: got [$2], want [$3]"
        echo "     body: ${BODY:0:400}"
    fi
}

jqb() { echo "$BODY" | jq -r "$1" 2>/dev/null; }

bulk() { # name, data (printf format), expected status, jq expr, expected value, [extra curl args]
    local name=$1 data=$2 st=$3 expr=$4 want=$5
    shift 5
    printf "$data" >"$TMP/req"
    req POST /_bulk "${NDJSON[@]}" --data-binary @"$TMP/req" "$@"
    check "$name (status)" "$STATUS" "$st"
    check "$name" "$(jqb "$expr")" "$want"
}

# ------------------------------------------------------------ 7.17: malformed input
start_server '{"version":"7.17"}'
bulk "no final newline" '{"index":{"_index":"a"}}\n{}' 400 .error.type illegal_argument_exception
check "no final newline reason" "$(jqb .error.reason)" 'The bulk request must be terminated by a newline [\n]'
bulk "action line not JSON" '{index}\n{}\n' 400 .error.type json_parse_exception
bulk "unknown action" '{"upsert":{"_index":"a"}}\n{}\n' 400 .error.reason \
    'Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]'
bulk "unknown parameter" '{"index":{"_index":"a","foo":1}}\n{}\n' 400 .error.reason \
    'Action/metadata line [1] contains an unknown parameter [foo]'
bulk "array metadata" '{"index":{"_id":[1]}}\n{}\n' 400 .error.type illegal_argument_exception
bulk "action not an object" '"index"\n{}\n' 400 .error.reason \
    'Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_STRING]'
bulk "no requests" '\n' 400 .error.type action_request_validation_exception
bulk "delete without id" '{"delete":{"_index":"a"}}\n' 400 .error.reason 'Validation Failed: 1: id is missing;'
bulk "index missing" '{"index":{}}\n{}\n' 400 .error.reason 'Validation Failed: 1: index is missing;'
bulk "doc not JSON: item level" '{"index":{"_index":"a"}}\nnot json\n{"index":{"_index":"a"}}\n{"ok":1}\n' \
    200 '[.errors, .items[0].index.status, .items[0].index.error.type, .items[0].index.error.caused_by.type, .items[1].index.status] | join(",")' \
    'true,400,mapper_parsing_exception,json_parse_exception,201'
bulk "empty doc" '{"index":{"_index":"a"}}\n\n' 200 .items[0].index.error.reason 'failed to parse, document is empty'
bulk "bad index name" '{"index":{"_index":"Bad"}}\n{}\n' 200 .items[0].index.error.type invalid_index_name_exception
bulk "crlf lines" '{"index":{"_index":"a"}}\r\n{"x":1}\r\n' 200 .items[0].index.status 201
bulk "create conflict" '{"create":{"_index":"a","_id":"x"}}\n{}\n{"create":{"_index":"a","_id":"x"}}\n{}\n' \
    200 '[.items[0].create.status, .items[1].create.status, .items[1].create.error.type] | join(",")' \
    '201,409,version_conflict_engine_exception'
bulk "update missing" '{"update":{"_index":"a","_id":"nope"}}\n{"doc":{"a":1}}\n' 200 \
    '[.items[0].update.status, .items[0].update.error.type] | join(",")' '404,document_missing_exception'
bulk "delete missing" '{"delete":{"_index":"a","_id":"nope"}}\n' 200 \
    '[.items[0].delete.status, .items[0].delete.result] | join(",")' '404,not_found'
check "compact, ordered keys" "$(echo "$BODY" | head -c 32)" '{"took":0,"errors":false,"items"'
req POST /_bulk "${NDJSON[@]}"
check "empty body" "$STATUS/$(jqb .error.type)" "400/parse_exception"
req POST /_bulk -d '{"index":{}}'
check "form content type" "$STATUS/$(jqb .error)" "406/Content-Type header [application/x-www-form-urlencoded] is not supported"
req GET /_bulk
check "GET /_bulk" "$STATUS" 405
printf '{"index":{"_index":"gz"}}\n{"m":"efk:gz:1 x"}\n' | gzip >"$TMP/gz"
req POST /_bulk "${NDJSON[@]}" -H 'Content-Encoding: gzip' --data-binary @"$TMP/gz"
check "gzip body" "$STATUS/$(jqb .items[0].index.status)" "200/201"
printf '{"index":{}}\n{"a":1}\n' >"$TMP/req"
req PUT /viaurl/_bulk "${NDJSON[@]}" --data-binary @"$TMP/req"
check "PUT /{index}/_bulk" "$STATUS/$(jqb .items[0].index._index)" "200/viaurl"
req GET /
check "7.17 root" "$STATUS/$(jqb .version.number)/$(jqb .tagline)" "200/7.17.25/You Know, for Search"
check "7.17 product header" "$(echo "$HEADERS" | grep -ci '^X-Elastic-Product: Elasticsearch')" 1
req HEAD /
check "HEAD /" "$STATUS" 200
req GET /nope/_search
check "search missing index" "$STATUS/$(jqb .error.type)" "404/index_not_found_exception"
req GET "/_cluster/health?wait_for_status=yellow&timeout=1s"
check "health yellow" "$STATUS/$(jqb .status)" "200/yellow"
req GET "/_cat/indices/a?format=json"
check "cat indices json" "$(jqb '.[0].index')/$(jqb '.[0]."docs.count"')" "a/3"
req GET /_template/t1
check "template missing" "$STATUS" 404
req PUT /_template/t1 -H 'Content-Type: application/json' -d '{"index_patterns":["a*"]}'
check "template put" "$STATUS/$(jqb .acknowledged)" "200/true"
req GET /_template/t1
check "template get" "$(jqb '.t1.index_patterns[0]')" "a*"
req GET /_nodes/http
check "nodes http" "$(jqb '.nodes[].http.publish_address')" "${URL#http://}"
req GET /_xpack
check "xpack ilm" "$(jqb .features.ilm.available)" true
req GET /_license
check "license" "$(jqb .license.type)" basic
req DELETE /a
check "delete index" "$STATUS/$(jqb .acknowledged)" "200/true"
req GET /a
check "index gone" "$STATUS/$(jqb .error.type)" "404/index_not_found_exception"

# ------------------------------------------------------------ body over http.max_content_length
start_server '{"version":"7.17","max_content_length":"1k"}'
head -c 3000 /dev/zero | tr '\0' 'x' >"$TMP/big"
req POST /_bulk "${NDJSON[@]}" --data-binary @"$TMP/big"
check "413 status" "$STATUS" 413
check "413 empty body" "${#BODY}" 0
req GET "/_cat/indices?format=json"
check "413 stored nothing" "$BODY" "[]"

# ------------------------------------------------------------ persona _type rules
start_server '{"version":"8"}'
bulk "8.x _type rejected" '{"index":{"_index":"system","_type":"events"}}\n{}\n' 400 .error.reason \
    'Action/metadata line [1] contains an unknown parameter [_type]'
check "8.x _type error type" "$(jqb .error.type)" illegal_argument_exception
printf '{"index":{"_index":"system","_type":"events"}}\n{}\n' >"$TMP/req"
req POST /_bulk -H 'Content-Type: application/vnd.elasticsearch+x-ndjson;compatible-with=7' \
    -H 'Accept: application/vnd.elasticsearch+json;compatible-with=7' --data-binary @"$TMP/req"
check "8.x compat-7 accepts _type" "$STATUS/$(jqb .items[0].index._type)" "200/_doc"
check "8.x compat-7 content type" "$(echo "$HEADERS" | grep -i '^Content-Type' | tr -d '\r')" \
    "Content-Type: application/vnd.elasticsearch+json;compatible-with=7"
req POST /_bulk -H 'Content-Type: application/vnd.elasticsearch+x-ndjson;compatible-with=9' \
    -H 'Accept: application/vnd.elasticsearch+json;compatible-with=9' --data-binary @"$TMP/req"
check "8.x compat-9" "$STATUS/$(jqb .error.type)" "400/media_type_header_exception"
bulk "8.x typeless" '{"index":{"_index":"system"}}\n{}\n' 200 '.items[0].index | has("_type")' false
bulk "8.x bad doc" '{"index":{"_index":"system"}}\n{"a":}\n' 200 .items[0].index.error.type document_parsing_exception
bulk "8.x action syntax" '{index}\n{}\n' 400 .error.type x_content_parse_exception
req GET /
check "8.x root" "$(jqb .version.number)/$(jqb .version.minimum_wire_compatibility_version)" "8.15.3/7.17.0"

start_server '{"version":"7.17"}'
bulk "7.x custom type" '{"index":{"_index":"system","_type":"events"}}\n{}\n' 200 .items[0].index._type events
bulk "7.x second type" '{"index":{"_index":"system","_type":"other"}}\n{}\n' 200 .items[0].index.error.type illegal_argument_exception
bulk "7.x default type" '{"index":{"_index":"x"}}\n{}\n' 200 .items[0].index._type _doc

start_server '{"version":"6.8"}'
bulk "6.8 type required" '{"index":{"_index":"x"}}\n{}\n' 400 .error.reason 'Validation Failed: 1: type is missing;'
bulk "6.8 type ok" '{"index":{"_index":"x","_type":"doc"}}\n{}\n' 200 '.items[0].index | [._type, ._seq_no, .result] | join(",")' 'doc,0,created'
bulk "6.8 one type per index" '{"index":{"_index":"x","_type":"other"}}\n{}\n' 200 .items[0].index.status 400
req GET /
check "6.8 root, no product header" "$(jqb .version.number)/$(echo "$HEADERS" | grep -ci '^X-Elastic-Product')" "6.8.23/0"

start_server '{"version":"5.6"}'
bulk "5.6 several types" '{"index":{"_index":"x","_type":"a"}}\n{}\n{"index":{"_index":"x","_type":"b"}}\n{}\n' 200 \
    '[.items[0].index.created, .items[1].index.status, .items[1].index.result] | join(",")' 'true,201,created'
bulk "5.6 type required" '{"index":{"_index":"x"}}\n{}\n' 400 .error.type action_request_validation_exception
req GET /
check "5.6 root" "$(jqb .version.number)/$(jqb .version.build_date | cut -c1-4)/$(jqb '.version | has("minimum_wire_compatibility_version")')" "5.6.16/2019/false"

start_server '{"version":"2.4"}'
bulk "2.4 no result field" '{"index":{"_index":"x","_type":"a"}}\n{}\n' 200 '.items[0].index | has("result")' false
bulk "2.4 type required" '{"index":{"_index":"x"}}\n{}\n' 400 .error.type action_request_validation_exception
req GET /
check "2.4 root" "$(jqb .version.number)/$(jqb .version.build_timestamp)" "2.4.6/2017-07-18T12:17:44Z"

# ------------------------------------------------------------ security
start_server '{"version":"8","security":{"users":[{"name":"elastic","password":"changeme"}],"api_keys":[{"id":"k1","key":"s3cr3t"}]}}'
req GET /_cat/health
check "401 no credentials" "$STATUS/$(jqb .error.type)/$(jqb .error.reason)" \
    "401/security_exception/missing authentication credentials for REST request [/_cat/health]"
check "401 WWW-Authenticate" "$(echo "$HEADERS" | grep -ci '^WWW-Authenticate:')" 3
req GET / -u elastic:wrong
check "401 bad password" "$STATUS/$(jqb .error.reason)" "401/unable to authenticate user [elastic] for REST request [/]"
req GET / -u elastic:changeme
check "basic auth" "$STATUS" 200
req GET / -H "Authorization: ApiKey $(printf k1:s3cr3t | base64)"
check "api key" "$STATUS" 200

# ------------------------------------------------------------ faults over the admin API
start_server '{"version":"7.17"}'
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"id":"i429","match":{"path":"*_bulk"},"action":"es_items","params":{"status":429,"positions":[2]},"times":1}'
check "add item fault" "$STATUS" 201
bulk "item 429 at position 2" '{"index":{"_index":"f"}}\n{}\n{"index":{"_index":"f"}}\n{}\n{"index":{"_index":"f"}}\n{}\n' 200 \
    '[.errors, .items[0].index.status, .items[1].index.status, .items[1].index.error.type, .items[2].index.status] | join(",")' \
    'true,201,429,es_rejected_execution_exception,201'
bulk "fault expired" '{"index":{"_index":"f"}}\n{}\n{"index":{"_index":"f"}}\n{}\n' 200 .errors false
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"match":{"path":"*_bulk"},"action":"es_reject","params":{"kind":"proxy_html"},"times":1}'
bulk "proxy html" '{"index":{"_index":"f"}}\n{}\n' 502 'type' ''
check "proxy html page" "$(echo "$BODY" | grep -c '502 Bad Gateway')" 2
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"match":{"path":"*_bulk"},"action":"es_reject","params":{"kind":"rejected_execution"},"times":1}'
bulk "whole request 429" '{"index":{"_index":"f"}}\n{}\n' 429 .error.type es_rejected_execution_exception
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"match":{"path":"*_bulk"},"action":"es_reject","params":{"kind":"no_master"},"times":1}'
bulk "whole request 503" '{"index":{"_index":"f"}}\n{}\n' 503 .error.type cluster_block_exception
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"match":{"path":"*_bulk"},"action":"es_reject","params":{"kind":"too_large"},"times":1}'
bulk "whole request 413" '{"index":{"_index":"f"}}\n{}\n' 413 'type' ''
check "413 fault empty body" "${#BODY}" 0
req POST /_efksim/faults -H 'Content-Type: application/json' \
    -d '{"match":{"path":"*_bulk"},"action":"es_reject","params":{"kind":"nope"}}'
check "bad fault kind" "$STATUS/$(jqb .pointer)" "400//params/kind"
req GET "/f/_count"
check "count after faults" "$(jqb .count)" 4

stop_server
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
