/*
 * es_api.h - public C API of the fake Elasticsearch
 * (included by fakes/efksim.h; include that instead).
 */
#ifndef EFK_ES_API_H
#define EFK_ES_API_H

#endif
