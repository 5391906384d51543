/*
 * apiserver_api.h - public C API of the fake Kubernetes API server
 * (included by fakes/efksim.h; include that instead).
 */
#ifndef EFK_APISERVER_API_H
#define EFK_APISERVER_API_H

#endif
