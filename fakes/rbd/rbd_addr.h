/*
 * rbd_addr.h - Ceph entity addresses ("10.47.136.60:0/1864102866") and entity
 * names ("client.24128") as the monitors and librbd parse and print them.
 *
 * Addresses follow entity_addr_t::parse: an optional "v1:", "v2:" or "any:"
 * prefix, an IPv4 or IPv6 address (IPv6 in brackets when a port follows), an
 * optional ":port" and an optional "/nonce". A bare IP is IP:0/0, which on the
 * blocklist matches every client of that IP. For a CIDR range the "nonce" is
 * the prefix length (what `ceph osd blocklist range add 10.1.2.0/24` stores).
 *
 * Entity names follow entity_name_t::parse: a type ("client", "osd", "mon",
 * "mds", "mgr"), a dot and a decimal number (strtoll: optional sign, no
 * leading blank), and nothing after it. "client.4261 " (a trailing space, the
 * Kubernetes 1.6-1.8 parsing bug) is therefore invalid, as in the real tool.
 */
#ifndef EFK_RBD_ADDR_H
#define EFK_RBD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RBD_ADDR_STR_MAX 72

typedef struct rbd_addr {
    int family;     /* AF_INET or AF_INET6 */
    uint8_t ip[16]; /* network order; IPv4 in the first 4 bytes */
    uint32_t port;
    uint32_t nonce; /* a range: the prefix length */
} rbd_addr;

/* Parse like entity_addr_t::parse. `strict` also refuses trailing text
 * (the monitor ignores it; the ceph CLI's validation does not get there).
 * 0 or -EINVAL. */
int rbd_addr_parse(const char *s, bool strict, rbd_addr *out) __attribute__((warn_unused_result));

/* "IP:port/nonce" ("[v6]:port/nonce"), as get_legacy_str() prints. Returns
 * out (at least RBD_ADDR_STR_MAX bytes). */
char *rbd_addr_format(const rbd_addr *a, char *out, size_t outsz);

/* Only the IP ("10.47.136.60", "::1"). Returns out. */
char *rbd_addr_ip(const rbd_addr *a, char *out, size_t outsz);

bool rbd_addr_eq(const rbd_addr *a, const rbd_addr *b);

/* Same family and the first `range->nonce` bits of the IPs agree. */
bool rbd_addr_in_range(const rbd_addr *a, const rbd_addr *range);

/* Does the address parse as a CIDR range (port 0, prefix length within the
 * family's bits)? */
bool rbd_addr_is_cidr(const rbd_addr *a);

/* Parse an IP alone ("10.0.0.1", "::1"). 0 or -EINVAL. */
int rbd_ip_parse(const char *s, rbd_addr *out) __attribute__((warn_unused_result));

typedef enum rbd_entity_type {
    RBD_ENT_MON = 1,
    RBD_ENT_MDS = 2,
    RBD_ENT_OSD = 4,
    RBD_ENT_CLIENT = 8,
    RBD_ENT_MGR = 16,
} rbd_entity_type;

typedef struct rbd_entity {
    rbd_entity_type type;
    int64_t num;
} rbd_entity;

/* Strict entity_name_t::parse. 0 or -EINVAL. */
int rbd_entity_parse(const char *s, rbd_entity *out) __attribute__((warn_unused_result));

/* "client.24128". Returns out. */
char *rbd_entity_format(const rbd_entity *e, char *out, size_t outsz);

#endif
