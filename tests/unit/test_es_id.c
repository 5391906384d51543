/* Generated ids: 20 characters of base64url, unique, time-ordered bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "es/es_id.h"

static int cmp(const void *a, const void *b)
{
    return memcmp(a, b, ES_ID_LEN);
}

static void test_shape_and_uniqueness(void **state)
{
    (void)state;
    efk_clock *clk = clock_test_new(0, INT64_C(1700000000123000000));
    es_idgen g;
    es_idgen_init(&g, clk, 99);
    enum { N = 200000 };
    char *ids = malloc((size_t)N * ES_ID_LEN);
    assert_non_null(ids);
    es_idgen_next(&g, ids, N); /* same millisecond throughout: the sequence carries it */
    for (size_t i = 0; i < (size_t)N * ES_ID_LEN; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", ids[i]));
    qsort(ids, N, ES_ID_LEN, cmp);
    for (size_t i = 1; i < N; i++)
        assert_true(memcmp(ids + (i - 1) * ES_ID_LEN, ids + i * ES_ID_LEN, ES_ID_LEN) != 0);
    free(ids);
    es_idgen_cleanup(&g);
    clock_test_free(clk);
}

static void test_layout(void **state)
{
    (void)state;
    /* decode one id: bytes 2..5 and 12, 14 carry the millisecond time */
    efk_clock *clk = clock_test_new(0, INT64_C(1700000000123000000));
    es_idgen g;
    es_idgen_init(&g, clk, 5);
    char id[ES_ID_LEN];
    es_idgen_next(&g, id, 1);
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t b[15];
    for (int i = 0; i < 5; i++) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++)
            v = (v << 6) | (uint32_t)(strchr(tbl, id[i * 4 + k]) - tbl);
        b[i * 3] = (uint8_t)(v >> 16);
        b[i * 3 + 1] = (uint8_t)(v >> 8);
        b[i * 3 + 2] = (uint8_t)v;
    }
    uint64_t ms = (uint64_t)b[14] | (uint64_t)b[12] << 8 | (uint64_t)b[2] << 16 |
                  (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40;
    assert_int_equal(ms, UINT64_C(1700000000123));
    /* the same seed gives the same ids */
    es_idgen g2;
    es_idgen_init(&g2, clk, 5);
    char id2[ES_ID_LEN];
    es_idgen_next(&g2, id2, 1);
    assert_memory_equal(id, id2, ES_ID_LEN);
    /* a batch across a millisecond: the sequence counts on by one, the node
     * bytes stay, the time bytes follow the clock */
    char ids[3 * ES_ID_LEN];
    es_idgen_next(&g, ids, 2);
    clock_test_advance(clk, 1000000);
    es_idgen_next(&g, ids + 2 * ES_ID_LEN, 1);
    uint8_t prev[15];
    memcpy(prev, b, sizeof(b));
    for (int n = 0; n < 3; n++) {
        uint8_t c[15];
        for (int i = 0; i < 5; i++) {
            uint32_t v = 0;
            for (int k = 0; k < 4; k++)
                v = (v << 6) | (uint32_t)(strchr(tbl, ids[n * ES_ID_LEN + i * 4 + k]) - tbl);
            c[i * 3] = (uint8_t)(v >> 16);
            c[i * 3 + 1] = (uint8_t)(v >> 8);
            c[i * 3 + 2] = (uint8_t)v;
        }
        uint32_t seq = (uint32_t)c[0] | (uint32_t)c[13] << 8 | (uint32_t)c[1] << 16;
        uint32_t pseq = (uint32_t)prev[0] | (uint32_t)prev[13] << 8 | (uint32_t)prev[1] << 16;
        assert_int_equal(seq, (pseq + 1) & 0xFFFFFF);
        assert_memory_equal(c + 6, b + 6, 6);
        assert_true(c[6] & 1);
        uint64_t t = (uint64_t)c[14] | (uint64_t)c[12] << 8 | (uint64_t)c[2] << 16 |
                     (uint64_t)c[3] << 24 | (uint64_t)c[4] << 32 | (uint64_t)c[5] << 40;
        assert_int_equal(t, UINT64_C(1700000000123) + (n == 2));
        memcpy(prev, c, sizeof(c));
    }
    es_idgen_cleanup(&g);
    es_idgen_cleanup(&g2);
    clock_test_free(clk);
}

static void test_base64url(void **state)
{
    (void)state;
    char out[32];
    size_t n = es_base64url((const uint8_t *)"\xfb\xff\xfe", 3, out);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "-__-", 4);
    n = es_base64url((const uint8_t *)"ab", 2, out);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "YWI", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_uniqueness),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_base64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
