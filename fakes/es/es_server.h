/*
 * es_server.h - the fake's internal state shared by es_server.c (life, API)
 * and es_routes.c (the HTTP surface). Not part of the public API.
 */
#ifndef EFK_ES_SERVER_H
#define EFK_ES_SERVER_H

#include <pthread.h>

#include "core/http.h"
#include "core/rng.h"
#include "core/route.h"
#include "es_acct.h"
#include "es_api.h"
#include "es_bulk.h"
#include "es_id.h"
#include "es_persona.h"
#include "es_store.h"

#define ES_MAX_RULE_STATES FAULT_MAX_RULES

/* Counters and rng of one "es_items" rule (updated under the store lock). */
typedef struct es_rule_state {
    bool used;
    char id[FAULT_ID_MAX];
    uint64_t counter, failed;
    rng rng;
} es_rule_state;

struct efk_es {
    efk_runtime rt;
    efk_clock *clock;
    es_persona persona;
    char cluster_name[128];
    char node_name[128];
    char cluster_uuid[24];
    char node_id[24];
    char publish[64];
    uint64_t store_limit;
    uint64_t max_content_length;
    efk_es_credential users[EFK_ES_MAX_CREDENTIALS];
    size_t nusers;
    efk_es_credential api_keys[EFK_ES_MAX_CREDENTIALS];
    size_t napi_keys;
    es_store *store;
    es_idgen ids;
    bool ids_ok;
    es_acct *acct;
    journal *journal;
    fault_chain *faults;
    route_table *routes;
    http_server *http;
    pthread_mutex_t rules_lock;
    es_rule_state rules[ES_MAX_RULE_STATES];
    pthread_mutex_t meta_lock; /* templates, index templates, ILM policies */
    json_t *templates;
    json_t *index_templates;
    json_t *ilm;
};

/* Register every route (es_routes.c). 0 or a negative code. */
int es_routes_add(efk_es *es);

/* The reject callback of the http layer (es_routes.c). */
void es_reject(void *arg, http_req *req, int status, const char *detail, http_resp *resp);

/* The state of an "es_items" rule, created on first use. NULL when the
 * table is full of live rules. */
es_rule_state *es_rule_state_get(efk_es *es, const char *id);

#endif
