/*
 * stratoctl: send one command to stratocastd's stats socket and print the
 * answer.
 *
 *   stratoctl [-s PATH] show info|sessions|groups|neighbors|streams|history
 *   stratoctl [-s PATH] metrics|help
 *
 * The words are joined with single spaces and sent as one line. Exit status:
 * 0 for an answer, 1 when the daemon cannot be reached or answers with a
 * JSON error object, 2 for a usage error.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/stratocast/stats.sock"
#define SOCKET_ENV "STRATOCAST_STATS_SOCKET"
#define MAX_LINE 1024
#define ANSWER_TIMEOUT_MS 15000

static void usage(FILE *fp) {
  fputs("Usage: stratoctl [-s PATH] COMMAND...\n"
        "Ask a running stratocastd for its state.\n"
        "\n"
        "Commands:\n"
        "  show info       the node: peer ID, address, uptime, counters\n"
        "  show sessions   one entry per session: peer, state, RTT, bytes\n"
        "  show groups     one entry per group: ID, size estimate, neighbours\n"
        "  show neighbors  one entry per neighbour in each group: peer,\n"
        "                  why it was chosen, RTT, age\n"
        "  show streams    one entry per live stream: roles, latest seq,\n"
        "                  pushed/pulled/played counters, latency\n"
        "  show history    the peers remembered across restarts, with\n"
        "                  sessions, failures, RTT and score\n"
        "  metrics         Prometheus text exposition format\n"
        "  help            the commands the daemon knows\n"
        "\n"
        "Options:\n"
        "  -s, --socket PATH  stats socket (default $" SOCKET_ENV
        " or " DEFAULT_SOCKET ")\n"
        "  -h, --help         show this help and exit\n"
        "  -V, --version      show the version and exit\n"
        "\n"
        "Exit status: 0 answered, 1 daemon unreachable or error answer,\n"
        "2 usage error.\n",
        fp);
}

/* Prints "stratoctl: |what| |arg| (see --help)"; |arg| may be NULL. */
static int usage_error(const char *what, const char *arg) {
  fprintf(stderr, "stratoctl: %s%s%s (see --help)\n", what,
          arg != NULL ? " " : "", arg != NULL ? arg : "");
  return 2;
}

/* Joins |argv[first..argc)| with spaces into |line| (room for MAX_LINE + 2
 * bytes: the daemon answers an overlong line with an error, so anything
 * longer is cut to one byte over the limit and still gets that answer). */
static size_t join_words(char *line, int argc, char **argv, int first) {
  size_t len = 0;
  int i;
  for (i = first; i < argc; i++) {
    size_t n = strlen(argv[i]);
    if (i > first && len < MAX_LINE + 1) {
      line[len++] = ' ';
    }
    if (n > MAX_LINE + 1 - len) {
      n = MAX_LINE + 1 - len;
    }
    memcpy(line + len, argv[i], n);
    len += n;
  }
  line[len++] = '\n';
  return len;
}

static int connect_socket(const char *path) {
  struct sockaddr_un sun;
  int fd, e;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sun.sun_path)) {
    fprintf(stderr, "stratoctl: cannot connect to %s: %s\n", path,
            strerror(ENAMETOOLONG));
    return -1;
  }
  memcpy(sun.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e = errno;
    fprintf(stderr, "stratoctl: socket: %s\n", strerror(e));
    return -1;
  }
  if (connect(fd, (struct sockaddr *)(void *)&sun, sizeof(sun)) != 0) {
    e = errno;
    fprintf(stderr,
            "stratoctl: cannot connect to %s: %s (is stratocastd running?)\n",
            path, strerror(e));
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) {
        continue;
      }
      fprintf(stderr, "stratoctl: send: %s\n", strerror(e));
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Copies the answer to stdout. Returns 0 for a normal answer, 1 for a JSON
 * error object or a failure. */
static int copy_answer(int fd) {
  char buf[65536], head[16];
  size_t headlen = 0, total = 0;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;
    int e, pr = poll(&pfd, 1, ANSWER_TIMEOUT_MS);
    if (pr == 0) {
      fprintf(stderr, "stratoctl: no answer within %d s\n",
              ANSWER_TIMEOUT_MS / 1000);
      return 1;
    }
    n = pr < 0 ? -1 : read(fd, buf, sizeof(buf));
    e = n < 0 ? errno : 0;
    if (n < 0 && e == EINTR) {
      continue;
    }
    /* After a rejected line the daemon closes with our extra input unread,
     * which Linux reports as a reset once its answer has been read. */
    if (n == 0 || (n < 0 && e == ECONNRESET && total > 0)) {
      break;
    }
    if (n < 0) {
      fprintf(stderr, "stratoctl: read: %s\n", strerror(e));
      return 1;
    }
    if (headlen < sizeof(head)) {
      size_t take = sizeof(head) - headlen < (size_t)n ? sizeof(head) - headlen
                                                       : (size_t)n;
      memcpy(head + headlen, buf, take);
      headlen += take;
    }
    total += (size_t)n;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
      fprintf(stderr, "stratoctl: cannot write to stdout\n");
      return 1;
    }
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "stratoctl: cannot write to stdout\n");
    return 1;
  }
  if (total == 0) {
    fprintf(stderr, "stratoctl: the daemon closed without answering\n");
    return 1;
  }
  return headlen >= 9 && memcmp(head, "{\"error\":", 9) == 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  const char *path = getenv(SOCKET_ENV);
  char line[MAX_LINE + 2];
  size_t len;
  int i, fd, rc;
  if (path == NULL || path[0] == '\0') {
    path = DEFAULT_SOCKET;
  }
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      printf("stratoctl " PACKAGE_VERSION "\n");
      return 0;
    }
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
      if (++i >= argc) {
        return usage_error("missing path after", a);
      }
      path = argv[i];
    } else if (strncmp(a, "--socket=", 9) == 0) {
      path = a + 9;
    } else {
      return usage_error("unknown option", a);
    }
  }
  if (i >= argc) {
    return usage_error("no command given", NULL);
  }
  len = join_words(line, argc, argv, i);
  fd = connect_socket(path);
  if (fd < 0) {
    return 1;
  }
  if (send_all(fd, line, len) != 0) {
    close(fd);
    return 1;
  }
  /* The daemon answers, sees our end of input and closes. */
  shutdown(fd, SHUT_WR);
  rc = copy_answer(fd);
  close(fd);
  return rc;
}
