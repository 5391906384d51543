#include "es_persona.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The last release of each line we emulate, with the fields its root
 * document reports. Hashes are those of no particular build: no client
 * reads them. */
static const struct {
    int major, minor, patch;
    const char *lucene, *hash, *date, *min_wire, *min_index;
} DEFAULTS[] = {
    {2, 4, 6, "5.5.4", "5376dca9f70f3abef96a77f4bb22720ace8240fd", "2017-07-18T12:17:44Z", NULL,
     NULL},
    {5, 6, 16, "6.6.1", "3a740d1", "2019-03-13T15:33:36.565Z", NULL, NULL},
    {6, 8, 23, "7.7.3", "4f67856", "2022-01-06T21:30:50.087716Z", "5.6.0", "5.0.0"},
    {7, 17, 25, "8.11.3", "f9b6b57d1d0f76e2d14291c04fb50abeb642cfbf",
     "2024-10-16T22:06:36.904732810Z", "6.8.0", "6.0.0-beta1"},
    {8, 15, 3, "9.11.1", "f97532e680b555c3a05e73a74c28afb666923018",
     "2024-10-09T22:08:00.328917561Z", "7.17.0", "7.0.0"},
};

static void fill(es_persona *p, size_t d, int minor, int patch)
{
    memset(p, 0, sizeof(*p));
    p->major = DEFAULTS[d].major;
    p->minor = minor;
    p->patch = patch;
    snprintf(p->number, sizeof(p->number), "%d.%d.%d", p->major, minor, patch);
    p->lucene = DEFAULTS[d].lucene;
    p->build_hash = DEFAULTS[d].hash;
    p->build_date = DEFAULTS[d].date;
    p->min_wire = DEFAULTS[d].min_wire;
    p->min_index = DEFAULTS[d].min_index;
    p->product_header = p->major > 7 || (p->major == 7 && minor >= 14);
    p->dup_keys = p->major >= 6;
    p->multi_type = p->major <= 5;
    p->type_required = p->major <= 6;
    p->type_rejected = p->major >= 8;
    p->total_as_object = p->major >= 7;
    p->parse_exc_wrapped = p->major >= 8;
}

int es_persona_parse(const char *version, es_persona *p, efk_err *err)
{
    static const char *allowed = "\"2.4\", \"5.6\", \"6.8\", \"7.17\", \"8\" (or \"8.x\"), or "
                                 "\"MAJOR.MINOR[.PATCH]\" with major 2, 5, 6, 7 or 8";
    if (!version || !*version)
        return efk_err_set(err, -EINVAL, "expected an Elasticsearch version: %s", allowed);
    int major = -1, minor = -1, patch = -1;
    const char *s = version;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0)
        goto bad;
    major = (int)v;
    if (*end == '.') {
        s = end + 1;
        if (strcasecmp(s, "x") == 0) {
            end = (char *)s + 1;
        } else {
            v = strtol(s, &end, 10);
            if (end == s || v < 0 || v > 999)
                goto bad;
            minor = (int)v;
            if (*end == '.') {
                s = end + 1;
                v = strtol(s, &end, 10);
                if (end == s || v < 0 || v > 999)
                    goto bad;
                patch = (int)v;
            }
        }
    }
    if (*end)
        goto bad;
    for (size_t d = 0; d < sizeof(DEFAULTS) / sizeof(DEFAULTS[0]); d++) {
        if (DEFAULTS[d].major != major)
            continue;
        if (minor < 0) {
            minor = DEFAULTS[d].minor;
            patch = DEFAULTS[d].patch;
        } else if (patch < 0) {
            patch = minor == DEFAULTS[d].minor ? DEFAULTS[d].patch : 0;
        }
        fill(p, d, minor, patch);
        return 0;
    }
bad:
    return efk_err_set(err, -EINVAL, "unsupported Elasticsearch version \"%s\": expected %s",
                       version, allowed);
}

static int compat_of(const char *h)
{
    if (!h)
        return 0;
    const char *c = strcasestr(h, "compatible-with");
    if (!c)
        return 0;
    c += strlen("compatible-with");
    while (*c == ' ')
        c++;
    if (*c != '=')
        return 0;
    c++;
    while (*c == ' ')
        c++;
    int v = atoi(c);
    return v > 0 ? v : 0;
}

int es_compat_version(const char *content_type, const char *accept)
{
    int a = compat_of(content_type), b = compat_of(accept);
    if (a && b && a != b)
        return -1;
    return a ? a : b;
}

void es_persona_for_request(const es_persona *base, int compat, es_persona *out)
{
    *out = *base;
    if (base->major >= 8 && compat == 7) {
        out->type_rejected = false;
        out->compat7 = true;
    }
}
