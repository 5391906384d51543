#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/buf.h"

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    buf *b = arg;
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

void tu_http(const tu_req *req, tu_resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = req->reuse ? req->reuse : curl_easy_init();
    struct curl_slist *hl = NULL;
    buf body, hdrs;
    buf_init(&body, 0);
    buf_init(&hdrs, 0);
    if (!req->reuse)
        curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    /* never rely on the environment's CA bundle */
    curl_easy_setopt(c, CURLOPT_CAINFO, req->cacert ? req->cacert : "/dev/null");
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    if (req->cert)
        curl_easy_setopt(c, CURLOPT_SSLCERT, req->cert);
    if (req->key)
        curl_easy_setopt(c, CURLOPT_SSLKEY, req->key);
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         (long)(req->body_len ? req->body_len : strlen(req->body)));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (req->method) {
        if (strcmp(req->method, "HEAD") == 0)
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    for (size_t i = 0; i < 16 && req->headers[i]; i++)
        hl = curl_slist_append(hl, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    out->curl_rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = buf_take(&body, &out->body_len);
    out->headers = buf_take(&hdrs, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    if (!req->reuse)
        curl_easy_cleanup(c);
}

void tu_resp_free(tu_resp *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

bool tu_header(const tu_resp *r, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *e = strstr(p, "\r\n");
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = l - (size_t)(v - p);
            snprintf(out, outsz, "%.*s", (int)vl, v);
            return true;
        }
        if (!e)
            break;
        p = e + 2;
    }
    return false;
}

char *tu_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s/efksim-test-XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void tu_rmtree(const char *path)
{
    if (path)
        fs_remove_tree(path);
}

int tu_write(const char *path, const char *s)
{
    return fs_write_file(path, s, strlen(s), 0600, NULL);
}

int64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tu_wait(bool (*cond)(void *arg), void *arg, long timeout_ms)
{
    int64_t end = tu_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (tu_now_ms() > end)
            return false;
        usleep(1000);
    }
}
