#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's time.ParseDuration grammar without the sign: one or more
 * <decimal number><unit> terms, e.g. "1m30s", "1.5s", "250ms". */
int duration_parse(const char *s, int64_t *out_ns)
{
    static const struct {
        const char *u;
        double mult;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    if (!s || !*s)
        return -EINVAL;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    double total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0 || !isfinite(v))
            return -EINVAL;
        p = end;
        size_t best = 0;
        double mult = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t ul = strlen(units[i].u);
            /* prefer the longest unit that matches ("ms" over "m") */
            if (strncmp(p, units[i].u, ul) == 0 && ul > best) {
                best = ul;
                mult = units[i].mult;
            }
        }
        if (!best)
            return -EINVAL;
        p += best;
        total += v * mult;
        if (total > 9.2e18)
            return -EINVAL;
    }
    *out_ns = (int64_t)llround(total);
    return 0;
}

char *duration_render(int64_t ns, char *out, size_t outsz)
{
    if (ns == 0)
        snprintf(out, outsz, "0s");
    else if (ns % 1000000000 == 0 && ns >= 60 * INT64_C(1000000000))
        snprintf(out, outsz, "%lldm%llds", (long long)(ns / 60000000000LL),
                 (long long)((ns / 1000000000LL) % 60));
    else if (ns >= 1000000000)
        snprintf(out, outsz, "%gs", (double)ns / 1e9);
    else if (ns >= 1000000)
        snprintf(out, outsz, "%gms", (double)ns / 1e6);
    else if (ns >= 1000)
        snprintf(out, outsz, "%gus", (double)ns / 1e3);
    else
        snprintf(out, outsz, "%lldns", (long long)ns);
    return out;
}

int size_parse(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v < 0 || !isfinite(v))
        return -EINVAL;
    static const struct {
        const char *u;
        double mult;
    } units[] = {{"", 1},       {"b", 1},       {"k", 1024.0},  {"kb", 1024.0},
                 {"kib", 1024.0}, {"m", 1048576.0}, {"mb", 1048576.0}, {"mib", 1048576.0},
                 {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0},
                 {"t", 1099511627776.0}, {"tb", 1099511627776.0}, {"tib", 1099511627776.0}};
    char unit[8];
    size_t ul = strlen(end);
    if (ul >= sizeof(unit))
        return -EINVAL;
    for (size_t i = 0; i < ul && i < sizeof(unit) - 1; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    unit[ul] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].u) == 0) {
            double r = v * units[i].mult;
            if (r > 1.8e19)
                return -EINVAL;
            *out = (uint64_t)llround(r);
            return 0;
        }
    }
    return -EINVAL;
}
