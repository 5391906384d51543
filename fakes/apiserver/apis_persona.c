#include "apis_persona.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Build metadata is that of the first release of each minor, as its
 * binaries report it; a full version given by the scenario replaces only
 * gitVersion. */
static const apis_persona PERSONAS[] = {
    {.name = "1.3",
     .minor = 3,
     .git_version = "v1.3.7",
     .git_commit = "a2cba278cba1f6881bb0a7704d9cac6fca6ed435",
     .build_date = "2016-09-12T23:08:43Z",
     .go_version = "go1.6.2",
     .forbid = APIS_FORBID_TEXT_URI,
     .healthz_only = true,
     .no_anonymous = true},
    {.name = "1.5",
     .minor = 5,
     .git_version = "v1.5.2",
     .git_commit = "08e099554f3c31f6e6f07b448ab3ed78d0520507",
     .build_date = "2017-01-12T04:52:34Z",
     .go_version = "go1.7.4",
     .forbid = APIS_FORBID_TEXT_URI,
     .healthz_only = true},
    {.name = "1.9",
     .minor = 9,
     .git_version = "v1.9.0",
     .git_commit = "925c127ec6b946659ad0fd596fa959be43f0cc05",
     .build_date = "2017-12-15T20:55:30Z",
     .go_version = "go1.9.2",
     .unauthorized_json = true,
     .forbid = APIS_FORBID_JSON_OLD,
     .healthz_only = true},
    {.name = "1.20",
     .minor = 20,
     .git_version = "v1.20.0",
     .git_commit = "af46c47ce925f4c4ad5cc8d1fca46c7b77d13b38",
     .build_date = "2020-12-08T17:51:19Z",
     .go_version = "go1.15.5",
     .unauthorized_json = true,
     .forbid = APIS_FORBID_JSON_NEW,
     .table = true,
     .bookmarks = true},
    {.name = "1.33",
     .minor = 33,
     .git_version = "v1.33.0",
     .git_commit = "60a317eadfcb839692a68eab88b2096f4d708f4f",
     .build_date = "2025-04-23T13:00:00Z",
     .go_version = "go1.24.2",
     .unauthorized_json = true,
     .forbid = APIS_FORBID_JSON_NEW,
     .table = true,
     .bookmarks = true,
     .aggregated_discovery = 2,
     .version_emulation = true,
     .endpoints_warning = true,
     .ns_name_label = true},
};
#define NPERSONAS (sizeof(PERSONAS) / sizeof(PERSONAS[0]))

const apis_persona *apis_persona_default(void)
{
    return &PERSONAS[NPERSONAS - 1];
}

const char *apis_persona_names(void)
{
    return "1.3, 1.5, 1.9, 1.20, 1.33";
}

int apis_persona_find(const char *version, const apis_persona **out, char *git_version_out,
                      char *errmsg, size_t errsz)
{
    const char *s = version;
    if (s && (*s == 'v' || *s == 'V'))
        s++;
    unsigned major = 0, minor = 0, patch = 0;
    int n = 0, got = s ? sscanf(s, "%u.%u%n", &major, &minor, &n) : 0;
    bool has_patch = false;
    if (got == 2 && s[n] == '.') {
        int n2 = 0;
        if (sscanf(s + n, ".%u%n", &patch, &n2) != 1) {
            got = 0;
        } else {
            n += n2;
            has_patch = true;
        }
    }
    if (got != 2 || major != 1 || s[n] != '\0') {
        snprintf(errmsg, errsz,
                 "expected a Kubernetes version like \"1.33\" or \"1.33.2\" (one of %s)",
                 apis_persona_names());
        return -EINVAL;
    }
    for (size_t i = 0; i < NPERSONAS; i++) {
        if (PERSONAS[i].minor != (int)minor)
            continue;
        *out = &PERSONAS[i];
        if (has_patch)
            snprintf(git_version_out, 32, "v1.%u.%u", minor, patch);
        else
            snprintf(git_version_out, 32, "%s", PERSONAS[i].git_version);
        return 0;
    }
    snprintf(errmsg, errsz, "unsupported Kubernetes version \"%s\": efksim plays %s", version,
             apis_persona_names());
    return -EINVAL;
}

json_t *apis_persona_version_doc(const apis_persona *p, const char *git_version)
{
    char minor[16];
    snprintf(minor, sizeof(minor), "%d", p->minor);
    json_t *v = json_object();
    json_object_set_new(v, "major", json_string("1"));
    /* Old releases built from a dirty tree reported "3+"; releases say "3". */
    json_object_set_new(v, "minor", json_string(minor));
    if (p->version_emulation) {
        char prev[16];
        snprintf(prev, sizeof(prev), "%d", p->minor - 1);
        json_object_set_new(v, "emulationMajor", json_string("1"));
        json_object_set_new(v, "emulationMinor", json_string(minor));
        json_object_set_new(v, "minCompatibilityMajor", json_string("1"));
        json_object_set_new(v, "minCompatibilityMinor", json_string(prev));
    }
    json_object_set_new(v, "gitVersion", json_string(git_version ? git_version : p->git_version));
    json_object_set_new(v, "gitCommit", json_string(p->git_commit));
    json_object_set_new(v, "gitTreeState", json_string("clean"));
    json_object_set_new(v, "buildDate", json_string(p->build_date));
    json_object_set_new(v, "goVersion", json_string(p->go_version));
    json_object_set_new(v, "compiler", json_string("gc"));
    json_object_set_new(v, "platform", json_string("linux/amd64"));
    return v;
}
