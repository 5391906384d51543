#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const PKI_SERVER_DNS[] = {"localhost",
                                      "kubernetes",
                                      "kubernetes.default",
                                      "kubernetes.default.svc",
                                      "kubernetes.default.svc.cluster.local",
                                      "elasticsearch-logging",
                                      NULL};
const char *const PKI_SERVER_IPS[] = {"127.0.0.1", "::1", NULL};

struct pki_ca {
    pthread_mutex_t mu;
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
    char *cert_pem;
    char *key_pem;
};

#define CHECK(call, what)                                                                          \
    do {                                                                                           \
        int g_ = (call);                                                                           \
        if (g_ < 0) {                                                                              \
            rc = efk_err_set(err, -EIO, "pki: %s: %s", what, gnutls_strerror(g_));                 \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static char *datum_str(gnutls_datum_t *d)
{
    char *s = malloc(d->size + 1);
    if (s) {
        memcpy(s, d->data, d->size);
        s[d->size] = '\0';
    }
    gnutls_free(d->data);
    d->data = NULL;
    return s;
}

static int new_key(gnutls_x509_privkey_t *key, efk_err *err)
{
    int rc = 0;
    *key = NULL;
    CHECK(gnutls_x509_privkey_init(key), "key init");
    CHECK(gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
          "ECDSA P-256 key generation");
out:
    if (rc && *key) {
        gnutls_x509_privkey_deinit(*key);
        *key = NULL;
    }
    return rc;
}

/* PKCS#8 "BEGIN PRIVATE KEY", which every client here (Go, Python, curl) reads. */
static int export_key(gnutls_x509_privkey_t key, char **out, efk_err *err)
{
    int rc = 0;
    gnutls_datum_t d = {NULL, 0};
    CHECK(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d),
          "key export");
    if (!(*out = datum_str(&d)))
        rc = efk_err_set(err, -ENOMEM, "out of memory");
out:
    return rc;
}

static int export_crt(gnutls_x509_crt_t crt, char **out, efk_err *err)
{
    int rc = 0;
    gnutls_datum_t d = {NULL, 0};
    CHECK(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), "certificate export");
    if (!(*out = datum_str(&d)))
        rc = efk_err_set(err, -ENOMEM, "out of memory");
out:
    return rc;
}

/* The fields every certificate here shares: v3, a random positive serial,
 * valid from an hour ago (clock skew between processes) for `days`. */
static int crt_base(gnutls_x509_crt_t crt, unsigned days, efk_err *err)
{
    int rc = 0;
    unsigned char serial[16];
    time_t now = time(NULL);
    CHECK(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "serial");
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    CHECK(gnutls_x509_crt_set_version(crt, 3), "version");
    CHECK(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial");
    CHECK(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation time");
    CHECK(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400), "expiration");
out:
    return rc;
}

static int set_dn(gnutls_x509_crt_t crt, const char *oid, const char *v, efk_err *err)
{
    int rc = 0;
    CHECK(gnutls_x509_crt_set_dn_by_oid(crt, oid, 0, v, (unsigned)strlen(v)), "subject name");
out:
    return rc;
}

int pki_ca_new(const char *cn, pki_ca **out, efk_err *err)
{
    int rc = 0;
    pki_ca *ca = calloc(1, sizeof(*ca));
    if (!ca)
        return efk_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&ca->mu, NULL);
    if ((rc = new_key(&ca->key, err)))
        goto out;
    CHECK(gnutls_x509_crt_init(&ca->crt), "certificate init");
    if ((rc = crt_base(ca->crt, 3650, err)) ||
        (rc = set_dn(ca->crt, GNUTLS_OID_X520_COMMON_NAME, cn, err)))
        goto out;
    CHECK(gnutls_x509_crt_set_key(ca->crt, ca->key), "CA key");
    CHECK(gnutls_x509_crt_set_basic_constraints(ca->crt, 1, -1), "basic constraints");
    CHECK(gnutls_x509_crt_set_key_usage(ca->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
                                                     GNUTLS_KEY_DIGITAL_SIGNATURE),
          "key usage");
    {
        unsigned char id[64];
        size_t idl = sizeof(id);
        CHECK(gnutls_x509_crt_get_key_id(ca->crt, 0, id, &idl), "key id");
        CHECK(gnutls_x509_crt_set_subject_key_id(ca->crt, id, idl), "subject key id");
    }
    CHECK(gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0), "CA signature");
    if ((rc = export_crt(ca->crt, &ca->cert_pem, err)) || (rc = export_key(ca->key, &ca->key_pem, err)))
        goto out;
    *out = ca;
    ca = NULL;
out:
    pki_ca_free(ca);
    return rc;
}

void pki_ca_free(pki_ca *ca)
{
    if (!ca)
        return;
    if (ca->crt)
        gnutls_x509_crt_deinit(ca->crt);
    if (ca->key)
        gnutls_x509_privkey_deinit(ca->key);
    free(ca->cert_pem);
    if (ca->key_pem) {
        explicit_bzero(ca->key_pem, strlen(ca->key_pem));
        free(ca->key_pem);
    }
    pthread_mutex_destroy(&ca->mu);
    free(ca);
}

const char *pki_ca_cert_pem(const pki_ca *ca)
{
    return ca->cert_pem;
}

const char *pki_ca_key_pem(const pki_ca *ca)
{
    return ca->key_pem;
}

void pki_pair_cleanup(pki_pair *p)
{
    if (!p)
        return;
    free(p->cert_pem);
    if (p->key_pem) {
        explicit_bzero(p->key_pem, strlen(p->key_pem));
        free(p->key_pem);
    }
    p->cert_pem = p->key_pem = NULL;
}

/* Issue a leaf: the caller has set the subject and extensions in `crt`. */
static int issue(pki_ca *ca, gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, pki_pair *out,
                 efk_err *err)
{
    int rc = 0;
    unsigned char id[64];
    size_t idl = sizeof(id);
    CHECK(gnutls_x509_crt_set_key(crt, key), "key");
    CHECK(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basic constraints");
    CHECK(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage");
    CHECK(gnutls_x509_crt_get_key_id(crt, 0, id, &idl), "key id");
    CHECK(gnutls_x509_crt_set_subject_key_id(crt, id, idl), "subject key id");
    pthread_mutex_lock(&ca->mu);
    idl = sizeof(id);
    int g = gnutls_x509_crt_get_subject_key_id(ca->crt, id, &idl, NULL);
    if (g >= 0)
        g = gnutls_x509_crt_set_authority_key_id(crt, id, idl);
    if (g >= 0)
        g = gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0);
    pthread_mutex_unlock(&ca->mu);
    CHECK(g, "signature");
    memset(out, 0, sizeof(*out));
    if ((rc = export_crt(crt, &out->cert_pem, err)) || (rc = export_key(key, &out->key_pem, err)))
        pki_pair_cleanup(out);
out:
    return rc;
}

int pki_issue_server(pki_ca *ca, const char *cn, const char *const *dns, const char *const *ips,
                     pki_pair *out, efk_err *err)
{
    int rc = 0;
    gnutls_x509_crt_t crt = NULL;
    gnutls_x509_privkey_t key = NULL;
    if ((rc = new_key(&key, err)))
        goto out;
    CHECK(gnutls_x509_crt_init(&crt), "certificate init");
    if ((rc = crt_base(crt, 825, err)) || (rc = set_dn(crt, GNUTLS_OID_X520_COMMON_NAME, cn, err)))
        goto out;
    for (const char *const *d = dns ? dns : PKI_SERVER_DNS; *d; d++)
        CHECK(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, *d, (unsigned)strlen(*d),
                                                   GNUTLS_FSAN_APPEND),
              "DNS name");
    for (const char *const *i = ips ? ips : PKI_SERVER_IPS; *i; i++) {
        unsigned char bin[16];
        unsigned len;
        if (inet_pton(AF_INET, *i, bin) == 1)
            len = 4;
        else if (inet_pton(AF_INET6, *i, bin) == 1)
            len = 16;
        else {
            rc = efk_err_set(err, -EINVAL, "pki: \"%s\" is not an IP address", *i);
            goto out;
        }
        CHECK(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, bin, len,
                                                   GNUTLS_FSAN_APPEND),
              "IP address");
    }
    CHECK(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "key purpose");
    rc = issue(ca, crt, key, out, err);
out:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc;
}

int pki_issue_client(pki_ca *ca, const char *cn, const char *const *orgs, size_t norgs,
                     pki_pair *out, efk_err *err)
{
    int rc = 0;
    gnutls_x509_crt_t crt = NULL;
    gnutls_x509_privkey_t key = NULL;
    if ((rc = new_key(&key, err)))
        goto out;
    CHECK(gnutls_x509_crt_init(&crt), "certificate init");
    if ((rc = crt_base(crt, 825, err)))
        goto out;
    /* O= before CN=, as kubeadm writes "O=system:masters, CN=kubernetes-admin" */
    for (size_t i = 0; i < norgs; i++)
        if ((rc = set_dn(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, orgs[i], err)))
            goto out;
    if ((rc = set_dn(crt, GNUTLS_OID_X520_COMMON_NAME, cn, err)))
        goto out;
    CHECK(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0), "key purpose");
    rc = issue(ca, crt, key, out, err);
out:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc;
}
