/*
 * stratocast.h: the public interface of the stratocast protocol core.
 *
 * The core is sans-I/O. It never opens a socket, reads a clock, draws
 * randomness or touches a disk. The host feeds it datagrams and the current
 * time; it answers with datagrams (through the send callback), events
 * (through the other callbacks) and its next deadline. The same core runs in
 * stratocastd, in stratosim and in the unit tests.
 *
 * Time is uint64_t monotonic nanoseconds from an arbitrary origin;
 * UINT64_MAX means "no deadline".
 */
#ifndef STRATOCAST_H
#define STRATOCAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(SC_BUILDING_CORE)
#define SC_API __attribute__((visibility("default")))
#else
#define SC_API
#endif

/* ---- errors ------------------------------------------------------------ */

/* Every fallible function returns 0 (or a length) on success and one of
 * these negative codes on failure. */
enum {
  SC_ERR_INVALID_ARG = -201, /* a caller passed something unusable */
  SC_ERR_NOMEM = -202,       /* an allocation failed */
  SC_ERR_BUFFER = -203,      /* a read or write ran past the buffer */
  SC_ERR_MALFORMED = -204,   /* bytes do not parse */
  SC_ERR_VERSION = -205,     /* unknown protocol version */
  SC_ERR_CRYPTO = -206,      /* authentication or a DH failed */
  SC_ERR_REPLAY = -207,      /* packet number already seen or too old */
  SC_ERR_STATE = -208,       /* not allowed in the current state */
  SC_ERR_NOT_FOUND = -209,   /* no such session or peer */
  SC_ERR_LIMIT = -210,       /* a configured limit was reached */
  SC_ERR_BUSY = -211,        /* try again later (queue or window full) */
  SC_ERR_CLOSED = -212,      /* the node or session is closed */
  SC_ERR_SELF = -213,        /* the peer is this node */
};

/* sc_ssize is "a length or an SC_ERR_* code". */
typedef long sc_ssize;

/* sc_strerror returns a static English description of |err|. */
SC_API const char *sc_strerror(int err);

/* sc_err_is_fatal returns nonzero if |err| means the object that returned it
 * can no longer be used (only SC_ERR_NOMEM and SC_ERR_CLOSED). */
SC_API int sc_err_is_fatal(int err);

/* ---- memory ------------------------------------------------------------ */

/* An allocator table. Every constructor takes one so that tests can fail the
 * N-th allocation. |user| is passed back to every function. */
typedef struct sc_mem {
  void *user;
  void *(*malloc)(size_t size, void *user);
  void (*free)(void *ptr, void *user);
  void *(*calloc)(size_t nmemb, size_t size, void *user);
  void *(*realloc)(void *ptr, size_t size, void *user);
} sc_mem;

/* sc_mem_default returns a table backed by the C library. */
SC_API const sc_mem *sc_mem_default(void);

/* ---- addresses --------------------------------------------------------- */

#define SC_ADDR_STRLEN 48 /* "[ffff:...:ffff]:65535" plus NUL */

/* A transport address without any socket headers: the shell converts. */
typedef struct sc_addr {
  uint8_t family; /* SC_AF_INET or SC_AF_INET6 */
  uint8_t ip[16]; /* IPv4 in the first 4 bytes, rest zero */
  uint16_t port;  /* host byte order */
} sc_addr;

#define SC_AF_INET 4
#define SC_AF_INET6 6

/* sc_addr_eq returns nonzero if |a| and |b| are the same address. */
SC_API int sc_addr_eq(const sc_addr *a, const sc_addr *b);

/* sc_addr_format writes |a| as "1.2.3.4:5" or "[::1]:5" (RFC 5952) into
 * |buf| of SC_ADDR_STRLEN bytes and returns |buf|. */
SC_API char *sc_addr_format(const sc_addr *a, char *buf);

/* sc_addr_parse parses the forms sc_addr_format writes (and IPv6 without
 * brackets only when no port follows is not accepted). Returns 0 or
 * SC_ERR_MALFORMED. */
SC_API int sc_addr_parse(sc_addr *a, const char *s);

/* ---- identity ---------------------------------------------------------- */

#define SC_KEY_LEN 32
#define SC_PEER_ID_LEN 32
#define SC_PEER_ID_HEXLEN (2 * SC_PEER_ID_LEN + 1)

/* sc_identity_from_secret derives the X25519 public key and the peer ID
 * (BLAKE2b-256 of the public key) from a 32-byte secret key. Returns 0 or
 * SC_ERR_CRYPTO when the key is unusable. */
SC_API int sc_identity_from_secret(const uint8_t secret[SC_KEY_LEN],
                                   uint8_t pub[SC_KEY_LEN],
                                   uint8_t peer_id[SC_PEER_ID_LEN]);

/* sc_hex writes |len| bytes of |in| as lower-case hex plus NUL into |out|
 * (2 * len + 1 bytes) and returns |out|. */
SC_API char *sc_hex(char *out, const uint8_t *in, size_t len);

/* ---- the node ---------------------------------------------------------- */

typedef struct sc_node sc_node;
struct sc_play_chunk;
struct sc_post_event;
struct sc_route_event;
struct sc_object_event;

enum sc_log_level {
  SC_LOG_ERROR = 0,
  SC_LOG_WARN = 1,
  SC_LOG_INFO = 2,
  SC_LOG_DEBUG = 3,
};

/* What happened to a peer, for persistence and logs. */
enum sc_peer_event_kind {
  SC_PEER_UP = 1,     /* a session completed its handshake */
  SC_PEER_DOWN = 2,   /* a session ended (see |reason|) */
  SC_PEER_FAILED = 3, /* a handshake to an address gave up */
};

/* Why a session ended. */
enum sc_close_reason {
  SC_CLOSE_NONE = 0,
  SC_CLOSE_LOCAL = 1,     /* this node closed it */
  SC_CLOSE_REMOTE = 2,    /* the peer sent CLOSE */
  SC_CLOSE_IDLE = 3,      /* nothing heard within the idle timeout */
  SC_CLOSE_REPLACED = 4,  /* a newer session with the same peer took over */
  SC_CLOSE_HANDSHAKE = 5, /* the handshake timed out */
  SC_CLOSE_PROTOCOL = 6,  /* the peer broke the protocol */
  SC_CLOSE_SELF = 7,      /* the address turned out to be this node */
};

typedef struct sc_peer_event {
  int kind;   /* enum sc_peer_event_kind */
  int reason; /* enum sc_close_reason for SC_PEER_DOWN/FAILED */
  int has_peer_id;
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
  uint64_t rtt_ns; /* smoothed RTT, 0 if unknown */
  uint64_t bytes_sent;
  uint64_t bytes_received;
} sc_peer_event;

typedef struct sc_callbacks {
  /* Sends one datagram. The core keeps no reference to |data| after the call
   * returns. A negative return is counted as a send error; the core treats
   * the datagram as lost. Required. */
  int (*send)(void *user, const sc_addr *to, const uint8_t *data, size_t len);
  /* Fills |buf| with |len| cryptographically secure random bytes.
   * Required. */
  void (*rand)(void *user, uint8_t *buf, size_t len);
  /* Receives a log line (no trailing newline). Optional. */
  void (*log)(void *user, int level, const char *msg);
  /* Reports a peer event. Optional. */
  void (*peer_event)(void *user, const sc_peer_event *ev);
  /* Hands over the next fragment of a stream this node plays
   * (sc_node_play), in order. Optional. */
  void (*stream_data)(void *user, const struct sc_play_chunk *chunk);
  /* Hands over a post from another member of a joined group, once per
   * post. Optional. */
  void (*post)(void *user, const struct sc_post_event *ev);
  /* Hands over a routed message this node is the destination of
   * (sc_node_route, sc_node_route_neighbor). Optional. */
  void (*routed)(void *user, const struct sc_route_event *ev);
  /* Tells of an object fetched from a neighbour and stored (object
   * replication). Optional. */
  void (*object)(void *user, const struct sc_object_event *ev);
} sc_callbacks;

typedef struct sc_settings {
  uint8_t static_secret[SC_KEY_LEN]; /* X25519 identity secret key */
  int log_level;                     /* enum sc_log_level; higher = more */
  size_t max_datagram;               /* largest datagram sent; default 1200 */
  uint32_t max_sessions;       /* sessions of any state, at least 1; default 256
                                  (sc_node_set_limits) */
  uint32_t max_half_open;      /* responder handshakes in flight; default 64 */
  uint32_t target_peers;       /* connect to introduced peers below this; 8 */
  uint64_t idle_timeout;       /* default 30 s */
  uint64_t keepalive_interval; /* default 10 s */
  uint64_t handshake_timeout;  /* give up on a handshake; default 20 s */
  uint64_t cookie_lifetime;    /* cookie validity; default 120 s */
  /* live streams (doc/protocol.md §13) */
  uint64_t stream_window;     /* stream time kept and played; default 8 s */
  uint64_t relay_margin;      /* kept past the window for relays; 2 s */
  uint64_t map_interval;      /* fragment maps to a subscriber; 200 ms */
  uint32_t push_peers;        /* neighbours asked to push; default 4 */
  uint32_t push_capacity;     /* class pushes granted, per stream, 0..1024;
                                 default 32 (sc_node_set_limits) */
  uint64_t manifest_interval; /* a publisher signs a short block after;
                                 default 50 ms */
  uint64_t gap_timeout;       /* a player skips a gap after; default 1 s */
} sc_settings;

/* sc_settings_default fills |s| with the defaults and a zero secret. */
SC_API void sc_settings_default(sc_settings *s);

/* sc_node_new creates a node. |settings| and |callbacks| are copied; |mem|
 * must outlive the node (NULL means sc_mem_default()). |user| is passed to
 * every callback. |now| is the current time. Returns 0, SC_ERR_INVALID_ARG,
 * SC_ERR_CRYPTO (bad secret) or SC_ERR_NOMEM. */
SC_API int sc_node_new(sc_node **pnode, const sc_settings *settings,
                       const sc_callbacks *callbacks, const sc_mem *mem,
                       void *user, uint64_t now);

/* sc_node_del frees |node| and every session without sending anything.
 * NULL is fine. */
SC_API void sc_node_del(sc_node *node);

/* sc_node_recv processes one datagram |data| of |len| bytes that came from
 * |from| at |now|. Bad datagrams are counted and dropped, never returned as
 * errors. Returns 0, or SC_ERR_NOMEM when the node ran out of memory (the
 * datagram is dropped; the node stays usable). */
SC_API int sc_node_recv(sc_node *node, const uint8_t *data, size_t len,
                        const sc_addr *from, uint64_t now);

/* sc_node_handle_expiry runs every timer due at |now|: retransmissions,
 * acknowledgements, keepalives, timeouts, pacing. Returns 0 or
 * SC_ERR_NOMEM. */
SC_API int sc_node_handle_expiry(sc_node *node, uint64_t now);

/* sc_node_get_expiry returns the time at which sc_node_handle_expiry must be
 * called next, or UINT64_MAX. */
SC_API uint64_t sc_node_get_expiry(const sc_node *node);

/* sc_node_connect asks the node to keep a session with |addr| (a bootstrap
 * peer whose identity is not known in advance): it connects now and again
 * whenever the session ends, with backoff. Returns 0, SC_ERR_LIMIT,
 * SC_ERR_CLOSED or SC_ERR_NOMEM. */
SC_API int sc_node_connect(sc_node *node, const sc_addr *addr, uint64_t now);

/* sc_node_close closes every session gracefully: each peer is told, and the
 * node stops accepting new sessions. Returns 0. */
SC_API int sc_node_close(sc_node *node, uint64_t now);

/* sc_node_is_closed returns nonzero once sc_node_close was called and every
 * session is gone (its CLOSE was sent). */
SC_API int sc_node_is_closed(const sc_node *node);

/* sc_node_set_log_level changes which messages the log callback gets
 * (enum sc_log_level), as settings.log_level does at creation. */
SC_API void sc_node_set_log_level(sc_node *node, int level);

#define SC_PUSH_CAPACITY_MAX 1024 /* settings.push_capacity at most */

/* sc_node_set_limits changes, at |now|, the two limits a running node can
 * change: settings.max_sessions (at least 1) and settings.push_capacity
 * (0..SC_PUSH_CAPACITY_MAX). A lower session limit closes nothing: while
 * more sessions than |max_sessions| are open, new ones (either role) are
 * refused, until the count falls below it. A lower push capacity applies
 * at once: in each stream where more class pushes are granted than
 * |push_capacity|, the excess is revoked one class at a time from the
 * neighbour granted the most, its highest class first (the grants left
 * are spread as evenly as they can be), and each neighbour that lost
 * classes is sent a REFUSE naming them (doc/protocol.md §13.2), so it
 * asks elsewhere. A higher capacity applies to the next PUSH requests.
 * Returns the number of class pushes revoked (0 or more), or
 * SC_ERR_INVALID_ARG (a value out of range; nothing changed). */
SC_API int sc_node_set_limits(sc_node *node, uint32_t max_sessions,
                              uint32_t push_capacity, uint64_t now);

/* sc_node_get_limits stores the limits in force (settings.max_sessions and
 * settings.push_capacity, as set at creation or by sc_node_set_limits) in
 * |*max_sessions| and |*push_capacity|. */
SC_API void sc_node_get_limits(const sc_node *node, uint32_t *max_sessions,
                               uint32_t *push_capacity);

/* sc_node_peer_id returns the node's 32-byte peer ID. */
SC_API const uint8_t *sc_node_peer_id(const sc_node *node);

/* ---- counters and introspection --------------------------------------- */

/* Reasons a datagram is dropped. Keep sc_drop_reason_name in step. */
enum sc_drop_reason {
  SC_DROP_TRUNCATED = 0,   /* shorter than its header or a field */
  SC_DROP_OVERSIZED,       /* longer than SC_MAX_PACKET */
  SC_DROP_VERSION,         /* unknown protocol version */
  SC_DROP_TYPE,            /* unknown packet type */
  SC_DROP_UNKNOWN_SESSION, /* receiver session ID not found */
  SC_DROP_STATE,           /* valid packet, wrong session state */
  SC_DROP_REPLAY,          /* packet number seen before or too old */
  SC_DROP_AUTH,            /* AEAD or handshake authentication failed */
  SC_DROP_MALFORMED,       /* authenticated, but chunks do not parse */
  SC_DROP_COOKIE,          /* handshake cookie invalid or expired */
  SC_DROP_LIMIT,           /* session or half-open limit reached */
  SC_DROP_CLOSED,          /* the node is closing */
  SC_DROP_AMPLIFICATION,   /* reply would exceed 3x to an unvalidated path */
  SC_DROP_REASON_COUNT
};

/* sc_drop_reason_name returns a snake_case name for |reason|. */
SC_API const char *sc_drop_reason_name(int reason);

typedef struct sc_node_stats {
  uint64_t packets_received;
  uint64_t packets_sent;
  uint64_t bytes_received;
  uint64_t bytes_sent;
  uint64_t send_errors;
  uint64_t dropped[SC_DROP_REASON_COUNT];
  uint64_t retries_sent;          /* cookie challenges sent */
  uint64_t handshakes_started;    /* as initiator */
  uint64_t handshakes_completed;  /* either role */
  uint64_t handshakes_failed;     /* initiator gave up */
  uint64_t sessions_replaced;     /* rapid connection restore */
  uint64_t sessions_timed_out;    /* idle timeout */
  uint64_t path_migrations;       /* validated address changes */
  uint64_t packets_lost;          /* declared lost by loss detection */
  uint64_t packets_retransmitted; /* control messages resent */
  uint64_t stream_packets_sent;   /* packets that carried stream data */
  uint64_t stream_bytes_sent;     /* ... and their bytes */
  uint64_t dgrams_expired;        /* datagrams dropped unsent (SC_DGRAM_TTL) */
} sc_node_stats;

/* sc_node_get_stats copies the node's counters into |st|. */
SC_API void sc_node_get_stats(const sc_node *node, sc_node_stats *st);

enum sc_session_state {
  SC_SESSION_HANDSHAKE = 1, /* handshake in progress */
  SC_SESSION_ESTABLISHED = 2,
  SC_SESSION_CLOSING = 3, /* CLOSE sent or received, draining */
};

typedef struct sc_session_info {
  uint32_t local_id;
  int state;     /* enum sc_session_state */
  int initiator; /* nonzero if this node started the handshake */
  int has_peer_id;
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
  uint64_t established_at; /* 0 while in handshake */
  uint64_t srtt_ns;
  uint64_t rttvar_ns;
  uint64_t min_rtt_ns;
  uint64_t cwnd_bytes;
  uint64_t bytes_in_flight;
  uint64_t pacing_rate_bps; /* bytes per second, 0 when not pacing */
  uint64_t bytes_sent;
  uint64_t bytes_received;
  uint64_t packets_sent;
  uint64_t packets_received;
  uint64_t packets_lost;
  uint64_t last_received; /* time of the last authenticated packet */
} sc_session_info;

/* sc_node_session_count returns the number of sessions in any state. */
SC_API size_t sc_node_session_count(const sc_node *node);

/* sc_node_sessions fills up to |cap| entries of |out| and returns how many
 * sessions exist (which may exceed |cap|). Order is by local ID. */
SC_API size_t sc_node_sessions(const sc_node *node, sc_session_info *out,
                               size_t cap);

/* sc_session_state_name returns "handshake", "established" or "closing". */
SC_API const char *sc_session_state_name(int state);

/* ---- groups and the mesh ---------------------------------------------- */

#define SC_GROUP_ID_BYTES 32
#define SC_GROUP_ADDR_BYTES 32

/* Why a neighbour is one (bits of sc_neighbor_info.reasons). */
enum sc_neighbor_reason {
  SC_NB_RING = 1,     /* among the ring-nearest on either side */
  SC_NB_LOOKUP = 2,   /* nearest to a log-spaced lookup offset */
  SC_NB_LATENCY = 4,  /* among the lowest-RTT members */
  SC_NB_RANDOM = 8,   /* the random member */
  SC_NB_ACCEPTED = 16 /* the peer chose this node */
};

typedef struct sc_group_stats {
  uint64_t hellos_refused; /* membership proofs that failed */
  uint64_t reports_sent;   /* MEMBERS messages */
  uint64_t reports_received;
  uint64_t entries_refused;  /* reported members over a cap */
  uint64_t members_expired;  /* table entries that aged out */
  uint64_t neighbors_dead;   /* neighbours declared dead by silence */
  uint64_t connects;         /* connections started toward members */
  uint64_t connect_failures; /* ... that did not come up in time */
  uint64_t sheds;            /* sessions no group needed, closed */
  /* posting */
  uint64_t posts_sent;         /* this node's own posts */
  uint64_t posts_received;     /* others' posts delivered, each once */
  uint64_t posts_duplicate;    /* copies of posts already delivered */
  uint64_t posts_dropped;      /* over their origin's rate */
  uint64_t posts_refused;      /* posting messages in a group without it */
  uint64_t posts_forwarded;    /* POSTs sent: own, handed on, repairs */
  uint64_t post_repairs_asked; /* IWANTs sent */
  /* routing */
  uint64_t routes_sent;      /* this node's own routed messages */
  uint64_t routes_received;  /* delivered here (to the routed callback) */
  uint64_t routes_forwarded; /* ROUTEs sent toward a target, own included */
  uint64_t routes_dropped;   /* hop limit, not nearer, not exact, budget */
  uint64_t routes_refused;   /* routing messages in a group without it */
  /* object replication */
  uint64_t objects_fetched; /* objects received from neighbours, stored */
  uint64_t objects_served;  /* objects sent to neighbours that asked */
  uint64_t fetches_sent;    /* requests for objects */
  uint64_t fetches_failed;  /* requests unanswered or denied */
  uint64_t repl_refused;    /* replication messages in a group without it */
  uint64_t repl_dropped;    /* replication messages malformed, unasked, or
                               from a link cut off for announcing more than
                               a member may hold */
  /* bytes of message bodies sent and received, for the NetGroupInfo
   * rates: posting data (POST) and control (IHAVE, IWANT), routing, and
   * object replication (all its messages) */
  uint64_t post_data_bytes_sent, post_data_bytes_received;
  uint64_t post_control_bytes_sent, post_control_bytes_received;
  uint64_t route_bytes_sent, route_bytes_received;
  uint64_t repl_bytes_sent, repl_bytes_received;
} sc_group_stats;

typedef struct sc_group_info {
  uint8_t group_id[SC_GROUP_ID_BYTES];
  uint8_t address[SC_GROUP_ADDR_BYTES]; /* this node's */
  unsigned features;                    /* 1 multicast, 2 posting, 4 routing,
                                           8 replication */
  int has_secret;
  uint32_t members_known;
  uint64_t estimated_members;
  uint32_t neighbors;
  uint32_t target; /* neighbours this node chooses; it may accept as many */
  sc_group_stats stats;
} sc_group_info;

typedef struct sc_neighbor_info {
  uint8_t peer_id[SC_PEER_ID_LEN];
  uint8_t address[SC_GROUP_ADDR_BYTES];
  uint8_t distance[SC_GROUP_ADDR_BYTES]; /* ring distance from this node */
  sc_addr addr;
  unsigned reasons; /* enum sc_neighbor_reason bits */
  uint64_t rtt_ns;  /* smoothed, 0 if unknown */
  uint64_t since;   /* when the link came up */
} sc_neighbor_info;

/* sc_node_join_group joins the group named by |spec| (doc/protocol.md
 * §11.1). Returns the group's index (0..7) or SC_ERR_MALFORMED (bad
 * spec), SC_ERR_STATE (already joined), SC_ERR_LIMIT (8 groups),
 * SC_ERR_CLOSED or SC_ERR_NOMEM. */
SC_API int sc_node_join_group(sc_node *node, const char *spec, uint64_t now);

/* sc_node_leave_group leaves the joined group |spec|: its streams,
 * posting, routing and replication state go, member links no other group
 * needs are closed, and the groups after it move down one index. Returns
 * 0, SC_ERR_MALFORMED (bad spec) or SC_ERR_NOT_FOUND (not joined). */
SC_API int sc_node_leave_group(sc_node *node, const char *spec, uint64_t now);

/* sc_node_groups fills up to |cap| entries of |out| in index order and
 * returns how many groups there are. */
SC_API size_t sc_node_groups(const sc_node *node, sc_group_info *out,
                             size_t cap);

/* sc_node_neighbors fills up to |cap| neighbours of group |index| into
 * |out|, nearest first, and returns how many there are (0 for a bad
 * index). */
SC_API size_t sc_node_neighbors(const sc_node *node, size_t index,
                                sc_neighbor_info *out, size_t cap);

/* A peer remembered from an earlier run (the host's history). */
typedef struct sc_known_peer {
  uint8_t peer_id[SC_PEER_ID_LEN];
  sc_addr addr;
  uint64_t rtt_ns;         /* 0 if unknown */
  uint32_t score_permille; /* reliability, 0..1000 */
} sc_known_peer;

/* sc_node_remember gives the node a peer to rejoin through when it has no
 * session at all (its bootstrap peers down or absent). Up to 64 are kept,
 * best score first. Returns 0, SC_ERR_INVALID_ARG (unusable address or
 * this node) or SC_ERR_LIMIT. */
SC_API int sc_node_remember(sc_node *node, const sc_known_peer *p,
                            uint64_t now);

/* ---- live streams (doc/protocol.md §12, §13) ------------------------- */

#define SC_STREAM_ID_LEN 32
#define SC_STREAM_KEY_LEN 32    /* Ed25519 public key */
#define SC_STREAM_SECRET_LEN 64 /* Ed25519 secret key, libsodium's form */
#define SC_STREAM_NAME_MAX 128

/* One in-order piece of a played stream (the stream_data callback). */
typedef struct sc_play_chunk {
  uint32_t handle;       /* from sc_node_play */
  uint64_t seq;          /* the fragment's sequence number */
  uint64_t timestamp_us; /* the publisher's clock when it was cut */
  int keyframe;          /* a clean point */
  uint64_t skipped;      /* seqs skipped just before this one (a gap) */
  const uint8_t *data;
  size_t len;
} sc_play_chunk;

enum sc_stream_role {
  SC_STREAM_RELAY = 1,     /* relays it */
  SC_STREAM_PUBLISHER = 2, /* publishes it */
  SC_STREAM_PLAYING = 4,   /* plays it (also relays it) */
};

/* A stream's counters: NetStreamMulticastInfo's and a few more. */
typedef struct sc_stream_stats {
  uint64_t fragments_from_source, bytes_from_source; /* published here */
  uint64_t fragments_pushed_to_peers, bytes_pushed_to_peers;
  uint64_t fragments_pushed_from_peers, bytes_pushed_from_peers;
  uint64_t fragments_requested_by_peers, bytes_requested_by_peers;
  uint64_t fragments_requested_from_peers; /* seqs asked for */
  uint64_t fragments_pulled_from_peers, bytes_pulled_from_peers;
  uint64_t fragments_received_unasked; /* neither pushed nor pulled */
  uint64_t duplicates, duplicate_bytes;
  uint64_t forgeries;  /* fragments and manifests that failed checks */
  uint64_t stale;      /* arrived older than the window */
  uint64_t push_drops; /* pushes a congested session could not take */
  uint64_t pull_giveups;
  uint64_t fragments_played, bytes_played;
  uint64_t gaps, gap_fragments; /* gaps skipped while playing, and seqs */
  uint64_t class_moves;         /* classes whose pusher changed */
  uint64_t retunes;             /* fell far behind and tuned in anew */
  uint64_t peers_banned;
  uint64_t manifests_published, manifests_received;
} sc_stream_stats;

typedef struct sc_stream_info {
  uint8_t stream_id[SC_STREAM_ID_LEN];
  uint8_t key[SC_STREAM_KEY_LEN];
  char name[SC_STREAM_NAME_MAX + 1];
  uint8_t group_id[SC_GROUP_ID_BYTES];
  unsigned roles;     /* enum sc_stream_role bits */
  uint64_t top;       /* highest authentic seq held, UINT64_MAX: none */
  uint64_t start;     /* where this node tuned in, UINT64_MAX: not yet */
  uint64_t next_play; /* the next seq to play */
  uint32_t peers, pushers, children;
  uint64_t fragments_held, bytes_held, pending;
  uint64_t latency_us; /* smoothed, arrival - publisher timestamp */
  uint64_t latency_max_us;
  sc_stream_stats stats;
} sc_stream_info;

/* sc_node_fragment_max returns the largest payload of one fragment. */
SC_API size_t sc_node_fragment_max(const sc_node *node);

/* sc_node_publish starts publishing the stream |name| (NUL-terminated,
 * 1..128 bytes, no control characters) in the joined group |group| (a
 * spec, as given to sc_node_join_group) with the Ed25519 secret key |sk|,
 * and stores a handle in |*handle|. Returns 0, SC_ERR_INVALID_ARG (bad
 * name), SC_ERR_MALFORMED (bad spec), SC_ERR_NOT_FOUND (group not joined),
 * SC_ERR_STATE (the group refuses this key or has multicast off, or the
 * stream exists), SC_ERR_LIMIT or SC_ERR_NOMEM. */
SC_API int sc_node_publish(sc_node *node, const char *group, const char *name,
                           const uint8_t sk[SC_STREAM_SECRET_LEN], uint64_t now,
                           uint32_t *handle);

/* sc_node_publish_fragment publishes the next fragment of the stream
 * |handle|: |len| (1..sc_node_fragment_max) bytes at |data|, a clean point
 * to start playing from if |keyframe|. Returns 0, SC_ERR_INVALID_ARG or
 * SC_ERR_NOT_FOUND. */
SC_API int sc_node_publish_fragment(sc_node *node, uint32_t handle,
                                    const uint8_t *data, size_t len,
                                    int keyframe, uint64_t now);

/* sc_node_play asks for the stream |name| of group |group| to be played:
 * the stream_data callback receives its fragments in order from a clean
 * point near the live edge. |key| picks the publisher; NULL takes the
 * first publisher of that name heard of. The stream need not exist yet.
 * Stores a handle in |*handle|. Returns as sc_node_publish. */
SC_API int sc_node_play(sc_node *node, const char *group, const char *name,
                        const uint8_t *key, uint64_t now, uint32_t *handle);

/* sc_node_streams fills up to |cap| entries of |out| and returns how many
 * streams the node has. */
SC_API size_t sc_node_streams(const sc_node *node, sc_stream_info *out,
                              size_t cap);

/* ---- posting ------------------------------------------------------------ */

#define SC_POST_MAX_LEN 900 /* bytes a post may carry */

/* A post delivered to this node (the post callback). */
typedef struct sc_post_event {
  uint8_t group_id[SC_GROUP_ID_BYTES];
  uint8_t origin[SC_PEER_ID_LEN]; /* the member that posted it */
  uint64_t number;                /* the origin's count of its posts */
  const uint8_t *data;            /* valid during the callback */
  size_t len;
} sc_post_event;

/* sc_node_post posts |len| (0..SC_POST_MAX_LEN) bytes at |data| to every
 * member of the joined group |group| (a spec, as given to
 * sc_node_join_group). Returns 0, SC_ERR_INVALID_ARG (too long),
 * SC_ERR_MALFORMED (bad spec), SC_ERR_NOT_FOUND (group not joined),
 * SC_ERR_STATE (the group does not allow posting) or SC_ERR_NOMEM. */
SC_API int sc_node_post(sc_node *node, const char *group, const uint8_t *data,
                        size_t len, uint64_t now);

/* ---- directed routing -------------------------------------------------- */

#define SC_ROUTE_MAX_LEN 900 /* bytes a routed message may carry */

/* Which routed messages a member takes for itself (per group, as the
 * anchor's NetGroup receiveMode). */
enum sc_receive_mode {
  SC_RECEIVE_EXACT = 0,   /* only those sent to exactly its address (the
                             default) */
  SC_RECEIVE_NEAREST = 1, /* those for which no member link is nearer the
                             target than it is */
};

/* The direction of sc_node_route_neighbor. */
enum sc_route_dir {
  SC_ROUTE_UP = 1,  /* the next member clockwise (increasing address) */
  SC_ROUTE_DOWN = 2 /* the next member counter-clockwise */
};

/* A routed message delivered to this node (the routed callback). */
typedef struct sc_route_event {
  uint8_t group_id[SC_GROUP_ID_BYTES];
  uint8_t origin[SC_PEER_ID_LEN];      /* the member that sent it */
  uint8_t target[SC_GROUP_ADDR_BYTES]; /* the address it was sent to */
  unsigned hops;                       /* member links crossed; 0 local */
  const uint8_t *data;                 /* valid during the callback */
  size_t len;
} sc_route_event;

/* sc_node_set_receive_mode sets this node's receive mode (enum
 * sc_receive_mode) in the joined group |group|. Returns 0,
 * SC_ERR_INVALID_ARG, SC_ERR_MALFORMED, SC_ERR_NOT_FOUND, SC_ERR_STATE
 * (the group does not allow routing) or SC_ERR_NOMEM. */
SC_API int sc_node_set_receive_mode(sc_node *node, const char *group, int mode);

/* sc_node_route sends |len| (0..SC_ROUTE_MAX_LEN) bytes toward the member
 * of |group| whose address is nearest |target|, greedily over member
 * links. It is delivered where it stops, if that member's receive mode
 * takes it (this node included). Returns as sc_node_post, or SC_ERR_BUSY
 * when the first link's queue is full. */
SC_API int sc_node_route(sc_node *node, const char *group,
                         const uint8_t target[SC_GROUP_ADDR_BYTES],
                         const uint8_t *data, size_t len, uint64_t now);

/* sc_node_route_neighbor sends |len| bytes to this node's next member up
 * or down the ring (enum sc_route_dir), whatever its receive mode. Returns
 * as sc_node_route, or SC_ERR_NOT_FOUND when there is no member link. */
SC_API int sc_node_route_neighbor(sc_node *node, const char *group, int dir,
                                  const uint8_t *data, size_t len,
                                  uint64_t now);

/* ---- object replication ------------------------------------------------ */

#define SC_OBJECT_MAX_LEN 900 /* bytes an object may hold */

/* Which missing object a member fetches first. */
enum sc_repl_strategy {
  SC_REPL_LOWEST_FIRST = 0, /* the lowest wanted index (the default) */
  SC_REPL_RAREST_FIRST = 1  /* the index the fewest neighbours have */
};

/* An object fetched from a neighbour and stored (the object callback). */
typedef struct sc_object_event {
  uint8_t group_id[SC_GROUP_ID_BYTES];
  uint8_t from[SC_PEER_ID_LEN]; /* the neighbour that gave it */
  uint64_t index;
  const uint8_t *data; /* valid during the callback */
  size_t len;
} sc_object_event;

/* sc_node_object_write stores object |index| (at most 2^62 - 1; |len|
 * bytes, up to SC_OBJECT_MAX_LEN) in |group|, replacing any it had: this
 * node then has it, and so does not fetch it even if it wants it. Returns
 * as sc_node_post, or SC_ERR_LIMIT when the group's store is full (16,384
 * objects or 8 MiB). */
SC_API int sc_node_object_write(sc_node *node, const char *group,
                                uint64_t index, const uint8_t *data, size_t len,
                                uint64_t now);

/* sc_node_object_remove removes object |index|: this node no longer has
 * it (and fetches it again if it still wants it). Returns 0,
 * SC_ERR_NOT_FOUND (no such object or group), or as sc_node_post. */
SC_API int sc_node_object_remove(sc_node *node, const char *group,
                                 uint64_t index, uint64_t now);

/* sc_node_object_read copies object |index| into |buf| (|cap| bytes) and
 * stores its length in |*len|. Returns 0, SC_ERR_NOT_FOUND,
 * SC_ERR_BUFFER (|cap| too small; |*len| says how much is needed) or as
 * sc_node_post. */
SC_API int sc_node_object_read(sc_node *node, const char *group, uint64_t index,
                               uint8_t *buf, size_t cap, size_t *len);

/* sc_node_object_want adds (|want| nonzero) or removes the indices
 * |first| .. |first| + |count| - 1 to or from those this node wants;
 * wanted objects it lacks are fetched from neighbours that have them.
 * Returns 0, SC_ERR_INVALID_ARG (count 0, or past 2^62 - 1),
 * SC_ERR_LIMIT (the wanted set would have over 256 runs) or as
 * sc_node_post. */
SC_API int sc_node_object_want(sc_node *node, const char *group, uint64_t first,
                               uint64_t count, int want, uint64_t now);

/* sc_node_set_replication sets the fetch order (enum sc_repl_strategy) in
 * |group|. Returns as sc_node_set_receive_mode. */
SC_API int sc_node_set_replication(sc_node *node, const char *group,
                                   int strategy);

#ifdef __cplusplus
}
#endif

#endif /* STRATOCAST_H */
