/*
 * cli_transport.h - how the `rbd` and `ceph` executables reach the fake
 * cluster: HTTP (libcurl) to the store named by `-m host:port`, or by the
 * `mon host` of the ceph.conf given with -c (or $CEPH_CONF), when that is a
 * loopback address; else by EFKSIM_RBD_MON; and the rest of the tools'
 * environment (EFKSIM_NODE_IP, EFKSIM_RBD_NONCE, EFKSIM_RBD_RELEASE,
 * EFKSIM_RBD_MOUNT_TIMEOUT).
 */
#ifndef EFK_CLI_TRANSPORT_H
#define EFK_CLI_TRANSPORT_H

#include "rbd/rbd_tool.h"

/* Run a tool (rbd_tool_run or ceph_tool_run) as a program: set up the
 * transport and environment from argv and the process environment, write
 * stderr then stdout, block forever when the result says hang, and return
 * the exit status. */
typedef void (*cli_tool_fn)(int argc, char **argv, const rbd_tool_env *env, const rbd_transport *t,
                            rbd_tool_result *res);
int cli_main(int argc, char **argv, cli_tool_fn fn);

#endif
