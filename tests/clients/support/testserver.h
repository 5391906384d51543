/*
 * testserver.h - what the client tests' stand-alone fake servers share
 * (es_testserver, rbd_testserver, apis_serve): reading a fake's config
 * section from a JSON argument, and serving until SIGINT/SIGTERM or until
 * stdin reaches EOF (so a test that dies never leaves its server behind),
 * handing each stdin line to the server's own command handler.
 */
#ifndef EFK_TESTSERVER_H
#define EFK_TESTSERVER_H

#include <jansson.h>

/* Parse `text` as JSON. On a syntax error print "PROG: -c: ..." on stderr
 * and return NULL. New reference. */
json_t *ts_json_arg(const char *prog, const char *text);

/* Install SIGINT/SIGTERM handlers (and ignore SIGPIPE), then read stdin
 * line by line, calling on_line(arg, line) for each non-empty line (without
 * its newline; lines over 64 KiB are dropped), until a signal arrives or
 * stdin ends. `on_line` may be NULL. */
void ts_serve_stdin(void (*on_line)(void *arg, char *line), void *arg);

#endif
