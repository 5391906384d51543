/*
 * pki.h - the test PKI: a CA, server and client certificates, made in-process.
 *
 * Keys are ECDSA P-256 (well under a millisecond each with GnuTLS), so a
 * scenario's whole PKI costs milliseconds. Nothing here is ever committed:
 * certificates and keys are generated per work dir.
 */
#ifndef EFK_PKI_H
#define EFK_PKI_H

#include <stddef.h>

#include "err.h"

typedef struct pki_ca pki_ca;

/* A certificate and its key, PEM-encoded, owned (pki_pair_cleanup). */
typedef struct pki_pair {
    char *cert_pem;
    char *key_pem;
} pki_pair;

/* The server certificate's names, used by default (NULL-terminated):
 * localhost, kubernetes, kubernetes.default, kubernetes.default.svc,
 * kubernetes.default.svc.cluster.local, elasticsearch-logging; and the IPs
 * 127.0.0.1 and ::1. */
extern const char *const PKI_SERVER_DNS[];
extern const char *const PKI_SERVER_IPS[];

/* New self-signed CA with the given CN, valid from an hour ago for 10 years.
 * 0 or a negative code with err. */
int pki_ca_new(const char *cn, pki_ca **out, efk_err *err) __attribute__((warn_unused_result));
void pki_ca_free(pki_ca *ca);

/* The CA's certificate and key as PEM (borrowed). */
const char *pki_ca_cert_pem(const pki_ca *ca);
const char *pki_ca_key_pem(const pki_ca *ca);

/* Issue a server certificate (CN `cn`, SANs from the NULL-terminated lists;
 * NULL lists: the defaults above). Thread-safe. */
int pki_issue_server(pki_ca *ca, const char *cn, const char *const *dns, const char *const *ips,
                     pki_pair *out, efk_err *err) __attribute__((warn_unused_result));

/* Issue a client certificate with subject CN=cn and one O= per org (in
 * order), for TLS client authentication. Thread-safe. */
int pki_issue_client(pki_ca *ca, const char *cn, const char *const *orgs, size_t norgs,
                     pki_pair *out, efk_err *err) __attribute__((warn_unused_result));

void pki_pair_cleanup(pki_pair *p);

#endif
