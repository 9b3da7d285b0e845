/* log: leveled key=value lines on stderr with an RFC 3339 UTC timestamp. */
#include "base/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static int g_level = TE_LOG_INFO;
static const char *names[] = {"debug", "info", "notice", "warn", "error"};

void te_log_set_level(int level) { g_level = level; }
int te_log_level(void) { return g_level; }

void te_log(int level, const char *mod, const char *fmt, ...) {
    if (level < g_level || level >= TE_LOG_NONE) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s mod=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), names[level], mod);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && n < (int)sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
