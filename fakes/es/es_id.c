#include "es_id.h"

#include "core/rng.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t es_base64url(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
        out[o++] = B64URL[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
    }
    return o;
}

void es_idgen_init(es_idgen *g, efk_clock *clock, uint64_t seed)
{
    rng r;
    rng_init(&r, seed, "es.ids");
    uint64_t a = rng_next(&r);
    for (int i = 0; i < 6; i++)
        g->node[i] = (uint8_t)(a >> (8 * i));
    g->node[0] |= 0x01; /* like ES's random fallback: a multicast (never real) MAC */
    g->seq = (uint32_t)(rng_next(&r) & 0xFFFFFF);
    g->last_ms = 0;
    g->clock = clock;
    pthread_mutex_init(&g->lock, NULL);
}

void es_idgen_cleanup(es_idgen *g)
{
    pthread_mutex_destroy(&g->lock);
}

void es_idgen_next(es_idgen *g, char *out, size_t n)
{
    int64_t now = clock_wall_ns(g->clock) / 1000000;
    pthread_mutex_lock(&g->lock);
    for (size_t k = 0; k < n; k++) {
        uint32_t seq = g->seq = (g->seq + 1) & 0xFFFFFF;
        int64_t ts = now > g->last_ms ? now : g->last_ms;
        if (seq == 0)
            ts++; /* the sequence wrapped: move time on so ids stay unique */
        g->last_ms = ts;
        uint8_t b[15];
        uint64_t t = (uint64_t)ts;
        b[0] = (uint8_t)seq;
        b[1] = (uint8_t)(seq >> 16);
        b[2] = (uint8_t)(t >> 16);
        b[3] = (uint8_t)(t >> 24);
        b[4] = (uint8_t)(t >> 32);
        b[5] = (uint8_t)(t >> 40);
        for (int i = 0; i < 6; i++)
            b[6 + i] = g->node[i];
        b[12] = (uint8_t)(t >> 8);
        b[13] = (uint8_t)(seq >> 8);
        b[14] = (uint8_t)t;
        es_base64url(b, sizeof(b), out + k * ES_ID_LEN);
    }
    pthread_mutex_unlock(&g->lock);
}
