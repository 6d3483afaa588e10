/*
 * config.h: stratocastd's settings from the command line and a config file.
 *
 * Only syntax is checked here (known options and keys, a value where one is
 * needed, a valid log level, the form of the stream options and which of
 * them need which). Addresses and paths are checked by the modules that
 * use them; each value keeps its origin ("--listen" or "FILE:LINE:
 * listen") so those modules can name it in an error.
 */
#ifndef SC_SHELL_CONFIG_H
#define SC_SHELL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SC_CONFIG_DEFAULT_STATE_DIR "/var/lib/stratocast"
/* Read when there is no --config and the file exists. */
#define SC_CONFIG_DEFAULT_FILE "/etc/stratocast/stratocastd.conf"
#define SC_CONFIG_DEFAULT_STATS_SOCKET "/run/stratocast/stats.sock"
#define SC_CONFIG_STREAM_NAME_MAX 128 /* bytes of --publish and --play */
#define SC_CONFIG_MAX_RATE ((uint64_t)10000000000)      /* --rate, bits/s */
#define SC_CONFIG_DEFAULT_WINDOW ((uint64_t)8000000000) /* ns */
#define SC_CONFIG_MIN_WINDOW ((uint64_t)1000000000)     /* ns */
#define SC_CONFIG_MAX_WINDOW ((uint64_t)60000000000)    /* ns */
#define SC_CONFIG_MIN_SESSIONS 8 /* --max-sessions: a mesh's worth */
#define SC_CONFIG_MAX_SESSIONS 4096

/* A setting and where it came from. Both strings are owned by the config. */
typedef struct sc_config_value {
  char *value;  /* NULL when not set */
  char *origin; /* "--listen", "FILE:LINE: listen" or "default state-dir" */
} sc_config_value;

/* The values of a repeatable setting, in the order given. */
typedef struct sc_config_list {
  sc_config_value *items; /* |n| entries, owned */
  size_t n;
} sc_config_list;

enum sc_config_action {
  SC_CONFIG_RUN = 0,     /* start the daemon */
  SC_CONFIG_HELP = 1,    /* print usage and exit 0 */
  SC_CONFIG_VERSION = 2, /* print the version and exit 0 */
};

typedef struct sc_config {
  int action; /* enum sc_config_action */
  /* The command line it was loaded from (not owned), to load it again on
   * SIGHUP, and the config file read, if any (owned). */
  int argc;
  char **argv;
  char *file;
  sc_config_value listen;
  sc_config_value state_dir;
  sc_config_value stats_socket;
  sc_config_value api_socket; /* NULL: no API socket */
  sc_config_list bootstrap;   /* HOST:PORT */
  sc_config_list groups;      /* group specs, checked by the core */
  int log_level;              /* enum sc_log_level */
  sc_config_value log_to;     /* --log-to; NULL: stderr */
  /* --metrics-listen ADDR:PORT; NULL: no Prometheus endpoint */
  sc_config_value metrics_listen;
  /* Live streams. Unset values are NULL. */
  sc_config_value publish;    /* name of the stream to publish */
  sc_config_value source;     /* its input, a source spec (iospec.h); set
                                 exactly when publish is */
  sc_config_value stream_key; /* key file; default STATE_DIR/stream.key */
  uint64_t rate_bps;          /* pace a file: source at this rate; 0: PCR */
  sc_config_value play;       /* name of the stream to play */
  sc_config_value sink;       /* its output, a sink spec; "-" with play */
  sc_config_value publisher;  /* 64 hex digits: the played stream's key */
  uint64_t window_ns;         /* --window, default 8 s */
  /* Limits SIGHUP applies (sc_node_set_limits); the core's defaults. */
  uint32_t max_sessions;  /* --max-sessions, 8..4096 */
  uint32_t push_capacity; /* --push-capacity, 0..1024 */
} sc_config;

/* sc_config_load parses |argv| (|argc| entries, argv[0] is the program) and
 * the file named by --config, if any, into |cfg|; command-line values
 * override the file's (a --bootstrap or --group on the command line
 * replaces the file's whole list of that key); defaults fill the rest. On
 * success returns 0 and |cfg| must be released with sc_config_free. On
 * failure returns -1, writes one line describing the problem (without the
 * program name or a newline) into |err| of |errlen| bytes and leaves
 * nothing to free. */
int sc_config_load(sc_config *cfg, int argc, char **argv, char *err,
                   size_t errlen);

/* sc_config_syslog_path returns the syslog socket that --log-to names, or
 * NULL when the log goes to stderr. */
const char *sc_config_syslog_path(const sc_config *cfg);

/* sc_config_changes writes into |out| (|cap| bytes) the keys whose values
 * differ between |a| and |b|, separated by ", " (empty when none), and
 * returns how many differ. log-level and log-to are left out when
 * |but_logging|. */
int sc_config_changes(const sc_config *a, const sc_config *b, int but_logging,
                      char *out, size_t cap);

/* sc_config_free releases everything |cfg| owns. */
void sc_config_free(sc_config *cfg);

/* sc_config_usage writes the --help text to |fp|. */
void sc_config_usage(FILE *fp);

/* sc_config_mkdir_private makes sure |path| is a directory, creating it and
 * any missing parents with mode 0700 if it does not exist (an existing
 * directory keeps its mode). |what| names the directory in messages
 * ("--state-dir"). Returns 0, or -1 with a message in |err|: a component is
 * not a directory or cannot be created. */
int sc_config_mkdir_private(const char *path, const char *what, char *err,
                            size_t errlen);

#endif /* SC_SHELL_CONFIG_H */
