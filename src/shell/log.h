/*
 * log.h: the daemon's log lines on stderr.
 *
 * Every line reads "2024-05-01T12:34:56.789Z LEVEL: message": a UTC
 * wall-clock timestamp, the level in capitals, the message. Lines above the
 * configured level are dropped. The core's log callback lands here too.
 */
#ifndef SC_SHELL_LOG_H
#define SC_SHELL_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sc_logger {
  FILE *fp;  /* where lines go; not owned */
  int level; /* enum sc_log_level: lines with a higher level are dropped */
} sc_logger;

/* sc_logger_init makes |lg| write lines up to |level| to |fp|. */
void sc_logger_init(sc_logger *lg, FILE *fp, int level);

/* sc_logger_is_enabled returns nonzero if a line at |level| would be
 * written, so callers can skip building an expensive message. */
int sc_logger_is_enabled(const sc_logger *lg, int level);

/* sc_logger_log formats and writes one line at |level|. A message longer
 * than 1 KiB is cut. */
void sc_logger_log(const sc_logger *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sc_logger_vlog is sc_logger_log with a va_list. */
void sc_logger_vlog(const sc_logger *lg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* sc_logger_level_parse maps "error", "warn", "info" or "debug" to an
 * enum sc_log_level. Returns the level, or -1 for anything else. */
int sc_logger_level_parse(const char *name);

/* sc_logger_level_name returns "error", "warn", "info" or "debug". */
const char *sc_logger_level_name(int level);

/* A token bucket for messages that could otherwise flood the log: at most
 * |burst| messages per |interval| nanoseconds. */
typedef struct sc_ratelimit {
  uint64_t interval;
  uint64_t window_start;
  unsigned burst;
  unsigned used;
  uint64_t suppressed; /* messages refused in earlier windows, not reported */
} sc_ratelimit;

/* sc_ratelimit_init allows |burst| messages per |interval| ns. */
void sc_ratelimit_init(sc_ratelimit *rl, uint64_t interval, unsigned burst);

/* sc_ratelimit_allow returns nonzero if one more message may be logged at
 * monotonic time |now|. When it opens a new window it stores in
 * |*suppressed| how many messages were refused since the last report (so
 * the caller can say so) and resets that count; otherwise it stores 0. */
int sc_ratelimit_allow(sc_ratelimit *rl, uint64_t now, uint64_t *suppressed);

#endif /* SC_SHELL_LOG_H */
