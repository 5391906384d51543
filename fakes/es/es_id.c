#include "es_id.h"

#include <string.h>

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

static inline void b64_group(uint32_t v, char *out)
{
    out[0] = B64URL[(v >> 18) & 63];
    out[1] = B64URL[(v >> 12) & 63];
    out[2] = B64URL[(v >> 6) & 63];
    out[3] = B64URL[v & 63];
}

/* The 15 bytes of an id, in ES's order (TimeBasedUUIDGenerator):
 *   seq, seq>>16, t>>16, t>>24, t>>32, t>>40, node[0..5], t>>8, seq>>8, t
 * encode in five 3-byte groups; the middle three (chars 4..15) depend on
 * the time and the node only, so they are encoded once per millisecond. */
void es_idgen_next(es_idgen *g, char *out, size_t n)
{
    int64_t now = clock_wall_ns(g->clock) / 1000000;
    pthread_mutex_lock(&g->lock);
    uint64_t mid_ts = UINT64_MAX;
    char mid[12];
    for (size_t k = 0; k < n; k++) {
        uint32_t seq = g->seq = (g->seq + 1) & 0xFFFFFF;
        int64_t ts = now > g->last_ms ? now : g->last_ms;
        if (seq == 0)
            ts++; /* the sequence wrapped: move time on so ids stay unique */
        g->last_ms = ts;
        uint64_t t = (uint64_t)ts;
        if (t != mid_ts) {
            uint8_t b[9] = {(uint8_t)(t >> 24), (uint8_t)(t >> 32), (uint8_t)(t >> 40),
                            g->node[0],         g->node[1],         g->node[2],
                            g->node[3],         g->node[4],         g->node[5]};
            es_base64url(b, sizeof(b), mid);
            mid_ts = t;
        }
        char *o = out + k * ES_ID_LEN;
        b64_group((seq & 0xFF) << 16 | ((seq >> 16) & 0xFF) << 8 | ((t >> 16) & 0xFF), o);
        memcpy(o + 4, mid, 12);
        b64_group(((t >> 8) & 0xFF) << 16 | ((seq >> 8) & 0xFF) << 8 | (t & 0xFF), o + 16);
    }
    pthread_mutex_unlock(&g->lock);
}
