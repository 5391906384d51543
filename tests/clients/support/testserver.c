#include "testserver.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

json_t *ts_json_arg(const char *prog, const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fprintf(stderr, "%s: -c: %s (column %d)\n", prog, je.text, je.column);
    return j;
}

void ts_serve_stdin(void (*on_line)(void *arg, char *line), void *arg)
{
    static char line[65536];
    size_t len = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    while (!stop) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t n = read(0, line + len, sizeof(line) - 1 - len);
        if (n == 0)
            break; /* the parent went away */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)n;
        line[len] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            if (line[0] && on_line)
                on_line(arg, line);
            size_t rest = len - (size_t)(nl + 1 - line);
            memmove(line, nl + 1, rest + 1);
            len = rest;
        }
        if (len == sizeof(line) - 1)
            len = 0; /* an over-long line: dropped */
    }
}
