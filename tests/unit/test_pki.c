/* The test PKI: certificates verify against the CA with GnuTLS and with the
 * curl command line (--cacert), carry the SANs and subjects we promise, and
 * keys are ECDSA P-256. (Client identity reaching a handler: test_http.) */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/http.h"
#include "core/pki.h"
#include "testutil.h"

static gnutls_x509_crt_t load(const char *pem)
{
    gnutls_x509_crt_t c;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    assert_int_equal(gnutls_x509_crt_init(&c), 0);
    assert_int_equal(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM), 0);
    return c;
}

static void test_server_cert_verifies(void **state)
{
    pki_ca *ca;
    pki_pair p;
    efk_err err;
    assert_int_equal(pki_ca_new("efksim CA", &ca, &err), 0);
    assert_int_equal(pki_issue_server(ca, "efksim", NULL, NULL, &p, &err), 0);
    /* PKCS#8 ("BEGIN PRIVATE KEY"), which Go, Python and curl all read */
    assert_int_equal(strncmp(p.key_pem, "-----BEGIN", 10), 0);
    assert_non_null(strstr(p.key_pem, "BEGIN PRIVATE KEY"));
    gnutls_x509_crt_t cacrt = load(pki_ca_cert_pem(ca)), crt = load(p.cert_pem);
    unsigned int status = 99;
    assert_int_equal(gnutls_x509_crt_list_verify(&crt, 1, &cacrt, 1, NULL, 0, 0, &status), 0);
    assert_int_equal(status, 0);
    /* every promised name is in the SANs */
    for (const char *const *d = PKI_SERVER_DNS; *d; d++)
        assert_true(gnutls_x509_crt_check_hostname(crt, *d));
    assert_true(gnutls_x509_crt_check_hostname(crt, "elasticsearch-logging"));
    assert_true(gnutls_x509_crt_check_hostname(crt, "kubernetes.default.svc.cluster.local"));
    assert_true(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\1", 4, 0));
    assert_false(gnutls_x509_crt_check_hostname(crt, "example.com"));
    /* ECDSA P-256 */
    unsigned bits = 0;
    assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_ECDSA);
    assert_int_equal(bits, 256);
    /* a certificate from another CA does not verify */
    pki_ca *other;
    assert_int_equal(pki_ca_new("other", &other, &err), 0);
    gnutls_x509_crt_t ocrt = load(pki_ca_cert_pem(other));
    assert_int_equal(gnutls_x509_crt_list_verify(&crt, 1, &ocrt, 1, NULL, 0, 0, &status), 0);
    assert_int_not_equal(status, 0);
    gnutls_x509_crt_deinit(ocrt);
    pki_ca_free(other);
    gnutls_x509_crt_deinit(cacrt);
    gnutls_x509_crt_deinit(crt);
    pki_pair_cleanup(&p);
    pki_ca_free(ca);
}

static void test_client_subject(void **state)
{
    pki_ca *ca;
    pki_pair p;
    efk_err err;
    assert_int_equal(pki_ca_new("efksim CA", &ca, &err), 0);
    const char *orgs[] = {"system:nodes", "efk"};
    assert_int_equal(pki_issue_client(ca, "system:node:node1", orgs, 2, &p, &err), 0);
    gnutls_x509_crt_t crt = load(p.cert_pem);
    char v[256];
    size_t sz = sizeof(v);
    assert_int_equal(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, v, &sz), 0);
    assert_string_equal(v, "system:node:node1");
    for (unsigned i = 0; i < 2; i++) { /* the groups, in the order given */
        sz = sizeof(v);
        assert_int_equal(
            gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, 0, v, &sz), 0);
        assert_string_equal(v, orgs[i]);
    }
    sz = sizeof(v);
    assert_int_not_equal(
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 2, 0, v, &sz), 0);
    char kp[128];
    sz = sizeof(kp);
    assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 0, kp, &sz, NULL), 0);
    assert_string_equal(kp, GNUTLS_KP_TLS_WWW_CLIENT);
    gnutls_x509_crt_deinit(crt);
    pki_pair_cleanup(&p);
    pki_ca_free(ca);
}

static void reject(void *arg, http_req *r, int status, const char *detail, http_resp *p)
{
    http_resp_text(p, status, "text/plain", "no");
}

static void h_hello(void *arg, http_req *r, http_resp *p)
{
    http_resp_text(p, 200, "text/plain", "hello over tls\n");
}

/* The curl command line verifies the server against the CA file alone. */
static void test_curl_cacert(void **state)
{
    pki_ca *ca;
    pki_pair p;
    efk_err err;
    assert_int_equal(pki_ca_new("efksim CA", &ca, &err), 0);
    assert_int_equal(pki_issue_server(ca, "efksim", NULL, NULL, &p, &err), 0);
    char *dir = tu_tmpdir();
    char cafile[512];
    snprintf(cafile, sizeof(cafile), "%s/ca.crt", dir);
    assert_int_equal(tu_write(cafile, pki_ca_cert_pem(ca)), 0);
    route_table *t = route_table_new();
    assert_int_equal(http_route(t, "GET", "/hello", h_hello, NULL), 0);
    http_service_config sc = {.name = "pki", .routes = t, .reject = reject};
    http_listener_config lc = {.tls = true, .cert_pem = p.cert_pem, .key_pem = p.key_pem};
    http_server *s;
    assert_int_equal(http_server_start(&sc, &lc, &s, &err), 0);
    const char *hosts[] = {"127.0.0.1", "localhost", "kubernetes.default.svc"};
    for (size_t i = 0; i < 3; i++) {
        char cmd[1024], out[256] = "";
        /* --resolve maps the service names to loopback: no traffic leaves */
        snprintf(cmd, sizeof(cmd),
                 "env -u CURL_CA_BUNDLE -u SSL_CERT_FILE curl -sS --noproxy '*' --cacert %s "
                 "--resolve %s:%u:127.0.0.1 https://%s:%u/hello 2>&1",
                 cafile, hosts[i], http_server_port(s), hosts[i], http_server_port(s));
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        size_t n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        assert_int_equal(pclose(f), 0);
        assert_string_equal(out, "hello over tls\n");
    }
    /* and refuses it without the CA */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "curl -sS --noproxy '*' --cacert /dev/null https://127.0.0.1:%u/hello >/dev/null 2>&1",
             http_server_port(s));
    assert_int_not_equal(system(cmd), 0);
    http_server_stop(s);
    route_table_free(t);
    pki_pair_cleanup(&p);
    pki_ca_free(ca);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_cert_verifies),
        cmocka_unit_test(test_client_subject),
        cmocka_unit_test(test_curl_cacert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
