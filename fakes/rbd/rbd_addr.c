#include "rbd_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int rbd_ip_parse(const char *s, rbd_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->ip) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->ip) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    return -EINVAL;
}

/* Digits of a port or nonce: the monitor uses atoi and skips the digits. */
static const char *parse_num(const char *p, uint64_t max, uint32_t *out, bool *ok)
{
    uint64_t v = 0;
    bool any = false;
    while (*p >= '0' && *p <= '9') {
        if (v <= max)
            v = v * 10 + (uint64_t)(*p - '0');
        any = true;
        p++;
    }
    *ok = v <= max;
    (void)any;
    *out = (uint32_t)v;
    return p;
}

int rbd_addr_parse(const char *s, bool strict, rbd_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return -EINVAL;
    const char *start = s;
    if (strncmp(start, "v1:", 3) == 0 || strncmp(start, "v2:", 3) == 0)
        start += 3;
    else if (strncmp(start, "any:", 4) == 0)
        start += 4;
    bool brackets = false;
    if (*start == '[') {
        brackets = true;
        start++;
    }
    /* As the monitor does: collect the IPv4 and the IPv6 alphabets and see
     * which one inet_pton accepts. */
    char b4[40], b6[64];
    size_t n4 = 0, n6 = 0;
    const char *p = start;
    while (n4 < sizeof(b4) - 1 && (*p == '.' || (*p >= '0' && *p <= '9')))
        b4[n4++] = *p++;
    b4[n4] = '\0';
    p = start;
    while (n6 < sizeof(b6) - 1 && (*p == ':' || (*p >= '0' && *p <= '9') ||
                                   (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
        b6[n6++] = *p++;
    b6[n6] = '\0';
    if (inet_pton(AF_INET, b4, out->ip) == 1) {
        out->family = AF_INET;
        p = start + n4;
    } else if (inet_pton(AF_INET6, b6, out->ip) == 1) {
        out->family = AF_INET6;
        p = start + n6;
    } else {
        return -EINVAL;
    }
    if (brackets) {
        if (*p != ']')
            return -EINVAL;
        p++;
    }
    bool ok = true;
    if (*p == ':') {
        p = parse_num(p + 1, 65535, &out->port, &ok);
        if (!ok)
            return -EINVAL;
    }
    if (*p == '/') {
        p = parse_num(p + 1, UINT32_MAX, &out->nonce, &ok);
        if (!ok)
            return -EINVAL;
    }
    if (strict && *p)
        return -EINVAL;
    return 0;
}

char *rbd_addr_ip(const rbd_addr *a, char *out, size_t outsz)
{
    char tmp[INET6_ADDRSTRLEN];
    if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->ip, tmp, sizeof(tmp)))
        snprintf(tmp, sizeof(tmp), "-");
    snprintf(out, outsz, "%s", tmp);
    return out;
}

char *rbd_addr_format(const rbd_addr *a, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN];
    rbd_addr_ip(a, ip, sizeof(ip));
    if (a->family == AF_INET6)
        snprintf(out, outsz, "[%s]:%u/%u", ip, (unsigned)a->port, (unsigned)a->nonce);
    else
        snprintf(out, outsz, "%s:%u/%u", ip, (unsigned)a->port, (unsigned)a->nonce);
    return out;
}

bool rbd_addr_eq(const rbd_addr *a, const rbd_addr *b)
{
    size_t n = a->family == AF_INET6 ? 16 : 4;
    return a->family == b->family && memcmp(a->ip, b->ip, n) == 0 && a->port == b->port &&
           a->nonce == b->nonce;
}

bool rbd_addr_is_cidr(const rbd_addr *a)
{
    uint32_t bits = a->family == AF_INET6 ? 128 : 32;
    return a->port == 0 && a->nonce <= bits;
}

bool rbd_addr_in_range(const rbd_addr *a, const rbd_addr *range)
{
    if (a->family != range->family || !rbd_addr_is_cidr(range))
        return false;
    uint32_t bits = range->nonce;
    uint32_t full = bits / 8, rest = bits % 8;
    if (memcmp(a->ip, range->ip, full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((a->ip[full] & mask) != (range->ip[full] & mask))
            return false;
    }
    return true;
}

static const struct {
    const char *prefix;
    rbd_entity_type type;
} entity_types[] = {
    {"mon.", RBD_ENT_MON},       {"osd.", RBD_ENT_OSD}, {"mds.", RBD_ENT_MDS},
    {"client.", RBD_ENT_CLIENT}, {"mgr.", RBD_ENT_MGR},
};

int rbd_entity_parse(const char *s, rbd_entity *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return -EINVAL;
    const char *p = NULL;
    for (size_t i = 0; i < sizeof(entity_types) / sizeof(entity_types[0]); i++) {
        size_t n = strlen(entity_types[i].prefix);
        if (strncmp(s, entity_types[i].prefix, n) == 0) {
            out->type = entity_types[i].type;
            p = s + n;
            break;
        }
    }
    if (!p || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\v' || *p == '\f' || *p == '\r')
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || *end != '\0' || errno == ERANGE)
        return -EINVAL;
    out->num = v;
    return 0;
}

char *rbd_entity_format(const rbd_entity *e, char *out, size_t outsz)
{
    const char *t = "client";
    for (size_t i = 0; i < sizeof(entity_types) / sizeof(entity_types[0]); i++)
        if (entity_types[i].type == e->type) {
            t = entity_types[i].prefix;
            break;
        }
    size_t tl = strlen(t);
    if (t[tl - 1] == '.')
        snprintf(out, outsz, "%.*s.%lld", (int)(tl - 1), t, (long long)e->num);
    else
        snprintf(out, outsz, "%s.%lld", t, (long long)e->num);
    return out;
}
