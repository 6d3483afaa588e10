/*
 * log.c: timestamped, level-filtered log lines on stderr or to syslog.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "stratocast.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

/* Syslog severities by enum sc_log_level. */
static const int level_severity[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void sc_logger_init(sc_logger *lg, FILE *fp, int level) {
  memset(lg, 0, sizeof(*lg));
  lg->fp = fp;
  lg->level = level;
  lg->syslog_fd = -1;
}

int sc_logger_use_syslog(sc_logger *lg, const char *path, char *err,
                         size_t errlen) {
  struct sockaddr_un addr;
  struct stat st;
  size_t n = strlen(path);
  int fd;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (n == 0 || n >= sizeof(addr.sun_path)) {
    snprintf(err, errlen, "syslog socket %s: the path is empty or too long",
             path);
    return -1;
  }
  memcpy(addr.sun_path, path, n);
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "syslog socket %s: %s (is a syslog daemon running?)",
             path, strerror(errno));
    return -1;
  }
  if (!S_ISSOCK(st.st_mode)) {
    snprintf(err, errlen, "syslog socket %s: not a socket", path);
    return -1;
  }
  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "syslog socket %s: %s", path, strerror(errno));
    return -1;
  }
  sc_logger_use_stream(lg);
  lg->syslog_fd = fd;
  lg->syslog_addr = addr;
  return 0;
}

void sc_logger_use_stream(sc_logger *lg) {
  if (lg->syslog_fd >= 0) {
    close(lg->syslog_fd);
  }
  lg->syslog_fd = -1;
}

/* Sends |msg| at |level| as one RFC 3164 datagram. Returns 0 if the socket
 * took all of it. */
static int send_syslog(const sc_logger *lg, int level, const char *msg) {
  char line[1200], stamp[32];
  time_t t = time(NULL);
  struct tm tm;
  int n;
  if (localtime_r(&t, &tm) == NULL ||
      strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0) {
    return -1;
  }
  n = snprintf(line, sizeof(line), "<%d>%s stratocastd[%ld]: %s",
               LOG_DAEMON | level_severity[level], stamp, (long)getpid(), msg);
  if (n < 0) {
    return -1;
  }
  if ((size_t)n >= sizeof(line)) {
    n = (int)sizeof(line) - 1;
  }
  return sendto(lg->syslog_fd, line, (size_t)n, MSG_NOSIGNAL,
                (const struct sockaddr *)(const void *)&lg->syslog_addr,
                sizeof(lg->syslog_addr)) == (ssize_t)n
             ? 0
             : -1;
}

int sc_logger_is_enabled(const sc_logger *lg, int level) {
  return level <= lg->level;
}

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" for the current wall-clock time. */
static void format_timestamp(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  size_t n;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
      gmtime_r(&ts.tv_sec, &tm) == NULL) {
    snprintf(buf, len, "-");
    return;
  }
  n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000);
}

void sc_logger_vlog(const sc_logger *lg, int level, const char *fmt,
                    va_list ap) {
  char msg[1024], stamp[40];
  if (!sc_logger_is_enabled(lg, level)) {
    return;
  }
  if (level < SC_LOG_ERROR) {
    level = SC_LOG_ERROR;
  } else if (level > SC_LOG_DEBUG) {
    level = SC_LOG_DEBUG;
  }
  vsnprintf(msg, sizeof(msg), fmt, ap);
  if (lg->syslog_fd >= 0 && send_syslog(lg, level, msg) == 0) {
    return;
  }
  format_timestamp(stamp, sizeof(stamp));
  /* One fprintf per line so concurrent writers to the same stderr (other
   * daemons in a test) do not interleave within a line. */
  fprintf(lg->fp, "%s %s: %s\n", stamp, level_tags[level], msg);
  fflush(lg->fp);
}

void sc_logger_log(const sc_logger *lg, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sc_logger_vlog(lg, level, fmt, ap);
  va_end(ap);
}

int sc_logger_level_parse(const char *name) {
  int i;
  for (i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
    if (strcmp(name, level_names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

const char *sc_logger_level_name(int level) {
  if (level < SC_LOG_ERROR || level > SC_LOG_DEBUG) {
    return "unknown";
  }
  return level_names[level];
}

void sc_ratelimit_init(sc_ratelimit *rl, uint64_t interval, unsigned burst) {
  rl->interval = interval;
  rl->window_start = 0;
  rl->burst = burst;
  rl->used = 0;
  rl->suppressed = 0;
}

int sc_ratelimit_allow(sc_ratelimit *rl, uint64_t now, uint64_t *suppressed) {
  *suppressed = 0;
  if (rl->used == 0 || now - rl->window_start >= rl->interval) {
    if (rl->used != 0) {
      *suppressed = rl->suppressed;
      rl->suppressed = 0;
    }
    rl->window_start = now;
    rl->used = 0;
  }
  if (rl->used >= rl->burst) {
    rl->suppressed++;
    return 0;
  }
  rl->used++;
  return 1;
}
