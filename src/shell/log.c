/*
 * log.c: timestamped, level-filtered log lines on stderr.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "log.h"

#include <string.h>
#include <time.h>

#include "stratocast.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void sc_logger_init(sc_logger *lg, FILE *fp, int level) {
  lg->fp = fp;
  lg->level = level;
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
