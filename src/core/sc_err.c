/*
 * sc_err.c: error strings and drop-reason names.
 */
#include "stratocast.h"

const char *sc_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
  case SC_ERR_INVALID_ARG:
    return "invalid argument";
  case SC_ERR_NOMEM:
    return "out of memory";
  case SC_ERR_BUFFER:
    return "buffer too short";
  case SC_ERR_MALFORMED:
    return "malformed input";
  case SC_ERR_VERSION:
    return "unsupported protocol version";
  case SC_ERR_CRYPTO:
    return "cryptographic failure";
  case SC_ERR_REPLAY:
    return "replayed or too old packet";
  case SC_ERR_STATE:
    return "invalid state";
  case SC_ERR_NOT_FOUND:
    return "not found";
  case SC_ERR_LIMIT:
    return "limit reached";
  case SC_ERR_BUSY:
    return "busy";
  case SC_ERR_CLOSED:
    return "closed";
  case SC_ERR_SELF:
    return "peer is this node";
  default:
    return "unknown error";
  }
}

int sc_err_is_fatal(int err) {
  return err == SC_ERR_NOMEM || err == SC_ERR_CLOSED;
}

static const char *const drop_names[SC_DROP_REASON_COUNT] = {
    [SC_DROP_TRUNCATED] = "truncated",
    [SC_DROP_OVERSIZED] = "oversized",
    [SC_DROP_VERSION] = "version",
    [SC_DROP_TYPE] = "type",
    [SC_DROP_UNKNOWN_SESSION] = "unknown_session",
    [SC_DROP_STATE] = "state",
    [SC_DROP_REPLAY] = "replay",
    [SC_DROP_AUTH] = "auth",
    [SC_DROP_MALFORMED] = "malformed",
    [SC_DROP_COOKIE] = "cookie",
    [SC_DROP_LIMIT] = "limit",
    [SC_DROP_CLOSED] = "closed",
    [SC_DROP_AMPLIFICATION] = "amplification",
};

const char *sc_drop_reason_name(int reason) {
  if (reason < 0 || reason >= SC_DROP_REASON_COUNT) {
    return "unknown";
  }
  return drop_names[reason];
}
