/*
 * log.h: the daemon's log lines, on stderr or to syslog.
 *
 * On stderr every line reads "2024-05-01T12:34:56.789Z LEVEL: message": a
 * UTC wall-clock timestamp, the level in capitals, the message. To syslog a
 * line is one datagram "<PRI>Mmm dd hh:mm:ss stratocastd[PID]: message"
 * (RFC 3164, facility daemon, the level as severity) sent to a Unix
 * datagram socket, /dev/log by default. Lines above the configured level
 * are dropped. The core's log callback lands here too.
 */
#ifndef SC_SHELL_LOG_H
#define SC_SHELL_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/un.h>

/* The socket of the system's syslog daemon. */
#define SC_LOG_SYSLOG_DEFAULT "/dev/log"

typedef struct sc_logger {
  FILE *fp;      /* where lines go without syslog, and when syslog fails */
  int level;     /* enum sc_log_level: lines with a higher level are dropped */
  int syslog_fd; /* unconnected datagram socket; -1: lines go to fp */
  struct sockaddr_un syslog_addr; /* where each syslog line is sent */
} sc_logger;

/* sc_logger_init makes |lg| write lines up to |level| to |fp|. */
void sc_logger_init(sc_logger *lg, FILE *fp, int level);

/* sc_logger_use_syslog sends later lines to the syslog socket at |path|.
 * Each line is addressed by path, so a syslog daemon that restarts gets
 * the next line; a line the socket does not take (no daemon, a full
 * buffer) goes to fp instead, never lost silently. Returns 0, or -1 with a
 * message in |err| (the path is too long or is not a socket); |lg| is then
 * unchanged. */
int sc_logger_use_syslog(sc_logger *lg, const char *path, char *err,
                         size_t errlen);

/* sc_logger_use_stream sends later lines to fp again, closing the syslog
 * socket if one is open. */
void sc_logger_use_stream(sc_logger *lg);

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
