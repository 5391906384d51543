/*
 * apiserver_fanout - watch fan-out latency of the fake API server.
 *
 *   apiserver_fanout [WATCHERS [WRITES]]      (defaults 100 and 50)
 *
 * Starts the fake in-process with a fresh PKI, opens WATCHERS watches on
 * configmaps over HTTPS (libcurl multi, one connection each), then makes
 * WRITES updates of one configmap through the C API, one at a time, and for
 * each measures the time from the write to the moment the last watcher has
 * received that event (each write carries a unique value the watchers look
 * for). Prints min / median / p90 / p99 / max in microseconds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "efksim.h"
#include "core/fsutil.h"

typedef struct w {
    char tail[64];         /* the end of what arrived so far, to find markers across chunks */
    atomic_long last_seen; /* the highest write number this watcher saw */
} w;

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    w *x = arg;
    size_t len = sz * n;
    /* look for "v":"mark-<k>" in (tail + p) */
    char buf[65536 + 64];
    size_t tl = strlen(x->tail);
    size_t take = len > 65536 ? 65536 : len;
    memcpy(buf, x->tail, tl);
    memcpy(buf + tl, p + len - take, take);
    buf[tl + take] = '\0';
    for (char *m = buf; (m = strstr(m, "mark-")); m += 5) {
        long k = strtol(m + 5, NULL, 10);
        if (k > atomic_load(&x->last_seen))
            atomic_store(&x->last_seen, k);
    }
    size_t keep = tl + take > 40 ? 40 : tl + take;
    memmove(x->tail, buf + tl + take - keep, keep);
    x->tail[keep] = '\0';
    return len;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct loop {
    CURLM *m;
    atomic_bool stop;
} loop;

static void *pump(void *arg)
{
    loop *l = arg;
    while (!atomic_load(&l->stop)) {
        int running = 0;
        curl_multi_perform(l->m, &running);
        curl_multi_poll(l->m, NULL, 0, 10, NULL);
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int nw = argc > 1 ? atoi(argv[1]) : 100;
    int nwrites = argc > 2 ? atoi(argv[2]) : 50;
    if (nw < 1 || nw > 1000 || nwrites < 1 || nwrites > 100000) {
        fprintf(stderr, "usage: apiserver_fanout [WATCHERS(1..1000) [WRITES]]\n");
        return 2;
    }
    efk_err err;
    efk_err_init(&err);
    pki_ca *ca;
    pki_pair srv;
    if (pki_ca_new("bench CA", &ca, &err) ||
        pki_issue_server(ca, "apiserver", NULL, NULL, &srv, &err)) {
        fprintf(stderr, "pki: %s\n", err.msg);
        return 1;
    }
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/efksim-fanout-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    char *ca_path = fs_join(dir, "ca.crt");
    if (fs_write_file(ca_path, pki_ca_cert_pem(ca), strlen(pki_ca_cert_pem(ca)), 0600, &err))
        return 1;
    efk_runtime rt = {.clock = clock_system(),
                      .seed = 1,
                      .workdir = dir,
                      .ca = ca,
                      .ca_pem = pki_ca_cert_pem(ca),
                      .server_cert_pem = srv.cert_pem,
                      .server_key_pem = srv.key_pem};
    efk_apiserver_config cfg;
    efk_apiserver_config_init(&cfg);
    json_t *sec =
        json_pack("{s:[{s:s,s:s,s:[s]}],s:{s:i}}", "identities", "name", "admin", "token",
                  "bench-token", "groups", "system:masters", "limits", "max_watchers", nw + 10);
    if (efk_apiserver_config_parse(&cfg, sec, dir, &err))
        return 1;
    json_decref(sec);
    efk_apiserver *a;
    if (efk_apiserver_start(&cfg, &rt, &a, &err)) {
        fprintf(stderr, "start: %s\n", err.msg);
        return 1;
    }
    json_t *cm = json_pack("{s:s,s:{s:s,s:s},s:{s:s}}", "kind", "ConfigMap", "metadata", "name",
                           "fan", "namespace", "default", "data", "v", "mark-0");
    if (efk_apiserver_object_apply(a, cm, &err))
        return 1;
    char url[256];
    snprintf(url, sizeof(url),
             "%s/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%llu",
             efk_apiserver_url(a), (unsigned long long)efk_apiserver_resource_version(a));
    curl_global_init(CURL_GLOBAL_ALL);
    loop l = {.m = curl_multi_init()};
    w *ws = calloc((size_t)nw, sizeof(*ws));
    CURL **hs = calloc((size_t)nw, sizeof(*hs));
    struct curl_slist *hdr = curl_slist_append(NULL, "Authorization: Bearer bench-token");
    for (int i = 0; i < nw; i++) {
        hs[i] = curl_easy_init();
        curl_easy_setopt(hs[i], CURLOPT_URL, url);
        curl_easy_setopt(hs[i], CURLOPT_CAINFO, ca_path);
        curl_easy_setopt(hs[i], CURLOPT_PROXY, "");
        curl_easy_setopt(hs[i], CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(hs[i], CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(hs[i], CURLOPT_WRITEDATA, &ws[i]);
        curl_multi_add_handle(l.m, hs[i]);
    }
    pthread_t t;
    pthread_create(&t, NULL, pump, &l);
    int64_t deadline = now_us() + 30000000;
    while ((int)efk_apiserver_watch_count(a) < nw && now_us() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* polling a condition with a deadline */
    }
    if ((int)efk_apiserver_watch_count(a) < nw) {
        fprintf(stderr, "only %zu watchers came up\n", efk_apiserver_watch_count(a));
        return 1;
    }
    int64_t *lat = calloc((size_t)nwrites, sizeof(*lat));
    for (int k = 1; k <= nwrites; k++) {
        char v[32];
        snprintf(v, sizeof(v), "mark-%d", k);
        json_object_set_new(json_object_get(cm, "data"), "v", json_string(v));
        int64_t t0 = now_us();
        if (efk_apiserver_object_apply(a, cm, &err))
            return 1;
        int64_t end = t0 + 10000000;
        for (;;) {
            int done = 0;
            for (int i = 0; i < nw; i++)
                done += atomic_load(&ws[i].last_seen) >= k;
            if (done == nw)
                break;
            if (now_us() > end) {
                fprintf(stderr, "write %d: only %d of %d watchers got it\n", k, done, nw);
                return 1;
            }
            sched_yield();
        }
        lat[k - 1] = now_us() - t0;
    }
    qsort(lat, (size_t)nwrites, sizeof(*lat), cmp64);
    printf("watch fan-out: %d watchers over https, %d writes: last watcher's event after "
           "min %lld us, median %lld us, p90 %lld us, p99 %lld us, max %lld us\n",
           nw, nwrites, (long long)lat[0], (long long)lat[nwrites / 2],
           (long long)lat[nwrites * 9 / 10], (long long)lat[nwrites * 99 / 100],
           (long long)lat[nwrites - 1]);
    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    for (int i = 0; i < nw; i++) {
        curl_multi_remove_handle(l.m, hs[i]);
        curl_easy_cleanup(hs[i]);
    }
    curl_multi_cleanup(l.m);
    curl_slist_free_all(hdr);
    efk_apiserver_stop(a);
    efk_apiserver_config_cleanup(&cfg);
    json_decref(cm);
    fs_remove_tree(dir);
    free(ca_path);
    free(ws);
    free(hs);
    free(lat);
    pki_pair_cleanup(&srv);
    pki_ca_free(ca);
    return 0;
}
