/* The one-pass document validator and the Jackson-worded tokenizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "es/es_json.h"

static es_check chk(const char *s)
{
    es_check_opts o = {.dup_keys = true};
    return es_json_check(s, strlen(s), &o, NULL);
}

static void test_valid_documents(void **state)
{
    (void)state;
    assert_int_equal(chk("{}"), ES_CHECK_OK);
    assert_int_equal(chk(" { \"a\" : 1 } "), ES_CHECK_OK);
    assert_int_equal(chk("{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false,\"e\":-1.5e+3}"),
                     ES_CHECK_OK);
    assert_int_equal(chk("{\"msg\":\"efk:s:1 a long line of filler text that spans words\"}"),
                     ES_CHECK_OK);
    assert_int_equal(
        chk("{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"e\":\"\\u00e9\\n\\\"\"}"),
        ES_CHECK_OK);
    assert_int_equal(chk("{\"a\":{},\"b\":[]}"), ES_CHECK_OK);
    /* same key in different objects is fine */
    assert_int_equal(chk("{\"a\":{\"x\":1},\"b\":{\"x\":2}}"), ES_CHECK_OK);
}

static void test_invalid_documents(void **state)
{
    (void)state;
    assert_int_equal(chk(""), ES_CHECK_EMPTY);
    assert_int_equal(chk("   "), ES_CHECK_EMPTY);
    assert_int_equal(chk("[1,2]"), ES_CHECK_NOT_OBJECT);
    assert_int_equal(chk("\"str\""), ES_CHECK_NOT_OBJECT);
    assert_int_equal(chk("12"), ES_CHECK_NOT_OBJECT);
    assert_int_equal(chk("not json"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":1,}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":01}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":1"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":\"x"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":\"\\q\"}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":\"\x01\"}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":\"\xff\"}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":\"\xc3\"}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":tru}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":[1,2}"), ES_CHECK_SYNTAX);
    assert_int_equal(chk("{\"a\":1}{\"b\":2}"), ES_CHECK_TRAILING);
    assert_int_equal(chk("{\"a\":1,\"a\":2}"), ES_CHECK_DUP_KEY);
    es_check_opts lax = {.dup_keys = false};
    assert_int_equal(es_json_check("{\"a\":1,\"a\":2}", 13, &lax, NULL), ES_CHECK_OK);
}

/* The duplicate-key filter: only a filter hit compares, so a repeat must be
 * found however full the filter is, and names at other levels or in sibling
 * objects are never repeats. */
static void test_dup_keys_filter(void **state)
{
    (void)state;
    char doc[2048];
    size_t n = 0;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "{");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(doc + n, sizeof(doc) - n, "}");
    assert_int_equal(chk(doc), ES_CHECK_OK); /* every bit set: compares, no repeat */
    for (int rep = 0; rep < 100; rep += 33) {
        snprintf(doc + n, sizeof(doc) - n, ",\"k%d\":0}", rep);
        assert_int_equal(chk(doc), ES_CHECK_DUP_KEY);
    }
    assert_int_equal(chk("{\"a\":{\"a\":{\"a\":1}},\"b\":2}"), ES_CHECK_OK);
    assert_int_equal(chk("{\"l\":[{\"x\":1},{\"x\":1}],\"x\":0}"), ES_CHECK_OK);
    assert_int_equal(chk("{\"o\":{\"x\":1},\"p\":{\"x\":2}}"), ES_CHECK_OK);
    assert_int_equal(chk("{\"o\":{\"x\":1},\"p\":{\"y\":2,\"x\":3,\"x\":4}}"),
                     ES_CHECK_DUP_KEY);
    assert_int_equal(chk("{\"a\":{\"b\":1},\"c\":2,\"a\":3}"), ES_CHECK_DUP_KEY);
    assert_int_equal(chk("{\"\":1,\"\":2}"), ES_CHECK_DUP_KEY);
}

/* Long strings cross the 16- and 8-byte fast paths at every offset. */
static void test_strings_every_offset(void **state)
{
    (void)state;
    char doc[200];
    for (int n = 0; n < 60; n++) {
        for (int at = 0; at <= n; at++) {
            char body[80];
            memset(body, 'x', (size_t)n);
            body[n] = '\0';
            /* a quote escape somewhere inside keeps it valid */
            if (at < n - 1) {
                body[at] = '\\';
                body[at + 1] = '"';
            }
            snprintf(doc, sizeof(doc), "{\"k\":\"%s\"}", body);
            assert_int_equal(chk(doc), ES_CHECK_OK);
            /* a raw control byte at that place makes it invalid */
            if (at < n) {
                body[at] = '\t';
                snprintf(doc, sizeof(doc), "{\"k\":\"%s\"}", body);
                assert_int_equal(chk(doc), ES_CHECK_SYNTAX);
            }
        }
    }
}

/* The validator and jansson agree on a corpus of mutations. */
static void test_agrees_with_jansson(void **state)
{
    (void)state;
    const char *base = "{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"c\\u0041\"}],\"d\":\"\xc3\xa9\"}";
    size_t n = strlen(base);
    const char repl[] = "{}[]\",:0-eE.a\\ \x01";
    char txt[128];
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < sizeof(repl) - 1; r++) {
            memcpy(txt, base, n + 1);
            txt[i] = repl[r];
            json_error_t e;
            json_t *j = json_loadb(txt, n, JSON_DECODE_ANY, &e);
            es_check c = chk(txt);
            if (j && json_is_object(j)) {
                /* jansson accepts duplicate keys; we do not */
                if (c != ES_CHECK_DUP_KEY)
                    assert_int_equal(c, ES_CHECK_OK);
            } else if (j) {
                assert_int_equal(c, ES_CHECK_NOT_OBJECT);
            } else {
                assert_true(c == ES_CHECK_SYNTAX || c == ES_CHECK_NOT_OBJECT ||
                            c == ES_CHECK_TRAILING || c == ES_CHECK_EMPTY);
                /* a syntax verdict always comes with Jackson's explanation */
                if (c == ES_CHECK_SYNTAX) {
                    es_jerr je;
                    assert_true(es_json_explain(txt, n, true, NULL, &je));
                    assert_true(strlen(je.msg) > 0);
                }
            }
            json_decref(j);
        }
    }
}

static void expect_msg(const char *doc, const char *msg, int column)
{
    es_jerr e;
    assert_true(es_json_explain(doc, strlen(doc), true, NULL, &e));
    assert_string_equal(e.msg, msg);
    if (column)
        assert_int_equal(e.column, column);
}

static void test_jackson_messages(void **state)
{
    (void)state;
    expect_msg("{bad}",
               "Unexpected character ('b' (code 98)): was expecting double-quote to start "
               "field name",
               3);
    expect_msg("{\"a\" 1}",
               "Unexpected character ('1' (code 49)): was expecting a colon to "
               "separate field name and value",
               7);
    expect_msg("{\"a\":1 \"b\":2}",
               "Unexpected character ('\"' (code 34)): was expecting comma "
               "to separate Object entries",
               9);
    expect_msg("{\"a\":}", "Unexpected character ('}' (code 125)): expected a value", 7);
    expect_msg("not json",
               "Unrecognized token 'not': was expecting (JSON String, Number, Array, "
               "Object or token 'null', 'true' or 'false')",
               4);
    expect_msg("{\"a\":'x'}",
               "Unexpected character (''' (code 39)): expected a valid value (JSON "
               "String, Number, Array, Object or token 'null', 'true' or 'false')",
               7);
    expect_msg("{\"a\":01}", "Invalid numeric value: Leading zeroes not allowed", 0);
    expect_msg("{\"a\":\"x\\q\"}", "Unrecognized character escape 'q' (code 113)", 0);
    expect_msg("{\"a\":1,\"a\":2}", "Duplicate field 'a'", 0);
    expect_msg("{\"a\":\"\t\"}",
               "Illegal unquoted character ((CTRL-CHAR, code 9)): has to be "
               "escaped using backslash to be included in string value",
               0);
    expect_msg("{\"a\":\"x",
               "Unexpected end-of-input: was expecting closing quote for a string "
               "value",
               0);
    es_jerr e;
    assert_true(es_json_explain("{\"a\":1", 6, true, NULL, &e));
    assert_string_equal(e.msg, "Unexpected end-of-input: expected close marker for Object (start "
                               "marker at [Source: (byte[])\"{\"a\":1\"; line: 1, column: 1])");
    buf b;
    buf_init(&b, 0);
    assert_true(es_json_explain("{bad}", 5, true, NULL, &e));
    assert_int_equal(es_jerr_render(&e, NULL, "{bad}", 5, &b), 0);
    assert_string_equal(b.data, "Unexpected character ('b' (code 98)): was expecting double-quote "
                                "to start field name\n at [Source: (byte[])\"{bad}\"; line: 1, "
                                "column: 3]");
    buf_cleanup(&b);
}

static void test_lexer_tokens(void **state)
{
    (void)state;
    const char *s = "{\"index\":{\"_index\":\"a\\\"b\",\"_id\":12,\"x\":null}}";
    es_lex lx;
    es_lex_init(&lx, s, strlen(s), false);
    es_tok want[] = {ES_TOK_START_OBJECT, ES_TOK_FIELD_NAME, ES_TOK_START_OBJECT, ES_TOK_FIELD_NAME,
                     ES_TOK_VALUE_STRING, ES_TOK_FIELD_NAME, ES_TOK_VALUE_NUMBER, ES_TOK_FIELD_NAME,
                     ES_TOK_VALUE_NULL,   ES_TOK_END_OBJECT, ES_TOK_END_OBJECT,   ES_TOK_NONE};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(es_lex_next(&lx), 0);
        assert_int_equal(lx.tok, want[i]);
        if (i == 4) {
            char *v = es_lex_strdup(&lx);
            assert_string_equal(v, "a\"b");
            free(v);
        }
        if (i == 6)
            assert_memory_equal(lx.text, "12", 2);
    }
    es_lex_cleanup(&lx);
    assert_string_equal(es_tok_name(ES_TOK_START_ARRAY), "START_ARRAY");
    assert_string_equal(es_tok_name(ES_TOK_NONE), "null");
}

static void test_field_value(void **state)
{
    (void)state;
    const char *s = "{\"a\":{\"log\":\"inner\"},\"log\":\"efk:x:5 hello\",\"n\":3}";
    es_check_opts o = {.field = "log", .field_len = 3};
    es_check_out out;
    assert_int_equal(es_json_check(s, strlen(s), &o, &out), ES_CHECK_OK);
    assert_non_null(out.field_val);
    assert_true(out.field_is_string);
    assert_int_equal(out.field_val_len, strlen("efk:x:5 hello"));
    assert_memory_equal(out.field_val, "efk:x:5 hello", out.field_val_len);
    es_check_opts o2 = {.field = "n", .field_len = 1};
    assert_int_equal(es_json_check(s, strlen(s), &o2, &out), ES_CHECK_OK);
    assert_false(out.field_is_string);
    assert_memory_equal(out.field_val, "3", 1);
}

static void test_line_mode(void **state)
{
    (void)state;
    es_check_opts o = {.dup_keys = true, .line = true};
    es_check_out out;
    const char *s = "{\"a\":[1,{\"b\":\"x y\"}]} \r\n{\"index\":{}}\n";
    assert_int_equal(es_json_check(s, strlen(s), &o, &out), ES_CHECK_OK);
    assert_ptr_equal(out.line_end, strchr(s, '\n'));
    /* anything but the plain case asks for the exact path */
    const char *fallback[] = {"{\"a\":\n1}\n", "{\"a\":1} x\n",      "{\"a\":1}",          "\n{}\n",
                              "[1]\n",         "{\"a\":\"x\ny\"}\n", "{\"a\":1,\"a\":2}\n"};
    for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
        assert_int_not_equal(es_json_check(fallback[i], strlen(fallback[i]), &o, &out),
                             ES_CHECK_OK);
}

static void test_unescape(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    const char *s = "a\\n\\u00e9\\ud83d\\ude00\\/";
    assert_int_equal(es_json_unescape(s, strlen(s), &b), 0);
    assert_string_equal(b.data, "a\n\xc3\xa9\xf0\x9f\x98\x80/");
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_dup_keys_filter),
        cmocka_unit_test(test_strings_every_offset),
        cmocka_unit_test(test_agrees_with_jansson),
        cmocka_unit_test(test_jackson_messages),
        cmocka_unit_test(test_lexer_tokens),
        cmocka_unit_test(test_field_value),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_line_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
