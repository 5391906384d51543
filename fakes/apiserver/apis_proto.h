/*
 * apis_proto.h - the two places where kubectl speaks protobuf to the server.
 *
 * 1. kubectl 1.33's typed create commands (`kubectl create namespace`,
 *    `create configmap`, `create secret`, `create serviceaccount`) send
 *    `Content-Type: application/vnd.kubernetes.protobuf`: the envelope
 *    "k8s\0" + runtime.Unknown{typeMeta, raw}. We decode the kinds those
 *    commands send into the JSON form the store takes.
 * 2. kubectl 1.27 reads /openapi/v2 only as gnostic's protobuf document, to
 *    see whether the server validates fields itself (a `fieldValidation`
 *    query parameter on each kind's PATCH operation). We write that document.
 * Field numbers are those of k8s.io/api generated.proto and gnostic's
 * OpenAPIv2.proto.
 */
#ifndef EFK_APIS_PROTO_H
#define EFK_APIS_PROTO_H

#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "apis_persona.h"

/* Decode a Kubernetes protobuf body into a JSON object (new reference).
 * NULL with a message in `err` when it is not the envelope, not core/v1, or
 * a kind we cannot decode (the caller answers 415 or 400). */
json_t *apis_proto_decode(const char *data, size_t len, char *err, size_t errsz);

/* The OpenAPI v2 document of our paths, protobuf-encoded, into `out`. */
int apis_proto_openapi_v2(const apis_persona *p, buf *out) __attribute__((warn_unused_result));

#endif
