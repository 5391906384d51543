#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void efk_err_init(efk_err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int efk_err_set(efk_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

int efk_err_invalid(efk_err *err, const char *pointer, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        efk_err_at(err, pointer);
    }
    return -EINVAL;
}

void efk_err_at(efk_err *err, const char *pointer)
{
    if (err)
        snprintf(err->pointer, sizeof(err->pointer), "%s", pointer ? pointer : "");
}

void efk_err_pos(efk_err *err, const char *file, int line, int column)
{
    if (!err)
        return;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = column;
}

const char *efk_err_render(const efk_err *err, char *out, size_t outsz)
{
    size_t n = 0;
    if (!outsz)
        return out;
    out[0] = '\0';
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(out + n, outsz - n, __VA_ARGS__);                                        \
        if (w_ > 0)                                                                                \
            n = (n + (size_t)w_ >= outsz) ? outsz - 1 : n + (size_t)w_;                            \
    } while (0)
    if (err->file[0]) {
        PUT("%s", err->file);
        if (err->line > 0)
            PUT(":%d", err->line);
        if (err->line > 0 && err->column > 0)
            PUT(":%d", err->column);
        PUT(": ");
    }
    if (err->pointer[0])
        PUT("%s: ", err->pointer);
    PUT("%s", err->msg[0] ? err->msg : "unknown error");
#undef PUT
    return out;
}
