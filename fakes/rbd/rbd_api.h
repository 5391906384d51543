/*
 * rbd_api.h - public C API of the fake Ceph RBD lock store
 * (included by fakes/efksim.h; include that instead).
 */
#ifndef EFK_RBD_API_H
#define EFK_RBD_API_H

#endif
