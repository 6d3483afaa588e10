/*
 * httpreq.h: the request head of an HTTP/1.x client of the daemon's small
 * HTTP servers, the stream sink and the Prometheus endpoint (RFC 9112 §3
 * request line, §5 field lines), and the short answers that refuse one.
 *
 * Each server serves one resource, so only the shape of the head, its
 * method and its target matter: the fields are checked for syntax and
 * counted, and otherwise ignored. Bare LF line ends are accepted (RFC 9112
 * §2.2).
 */
#ifndef SC_SHELL_HTTPREQ_H
#define SC_SHELL_HTTPREQ_H

#include <stddef.h>

#define SC_HTTPREQ_MAX_FIELDS 64 /* field lines in a head */

enum sc_httpreq_result {
  SC_HTTPREQ_MORE = 0,      /* the head is not complete yet */
  SC_HTTPREQ_GET = 1,       /* a well-formed GET */
  SC_HTTPREQ_METHOD = 2,    /* well-formed, another method: answer 405 */
  SC_HTTPREQ_MALFORMED = 3, /* answer 400 */
  SC_HTTPREQ_TOO_LARGE = 4, /* over SC_HTTPREQ_MAX_FIELDS lines: 431 */
};

/* sc_httpreq_parse looks at the |len| bytes received so far in |buf|. When
 * they hold a complete head (up to the empty line) it returns what it is
 * and stores the head's length in |*head_len|; otherwise it returns
 * SC_HTTPREQ_MORE, or SC_HTTPREQ_MALFORMED as soon as the bytes cannot
 * start a valid head. */
int sc_httpreq_parse(const char *buf, size_t len, size_t *head_len);

/* sc_httpreq_status maps a |result| of sc_httpreq_parse to the status
 * that refuses the request: 405, 400 or 431 (also for SC_HTTPREQ_MORE
 * when |full|, the buffer of the head being full). Returns 0 for a GET,
 * and for SC_HTTPREQ_MORE with room left. */
int sc_httpreq_status(int result, int full);

/* sc_httpreq_target finds the request target ("/metrics?x=1") in the
 * |head_len| bytes of |head|, a head sc_httpreq_parse answered
 * SC_HTTPREQ_GET or SC_HTTPREQ_METHOD for (with that |head_len|):
 * |*target| points into |head| and |*len| is its length. */
void sc_httpreq_target(const char *head, size_t head_len, const char **target,
                       size_t *len);

/* sc_httpreq_refusal writes into |buf| (|buflen| bytes, 256 is enough) a
 * complete HTTP/1.1 answer with |status| (400, 404, 405, 408, 431, 500
 * or 503): a text/plain body naming it, "Allow: GET" for 405 and
 * "Connection: close". Returns its length, or 0 if |buf| is too small. */
size_t sc_httpreq_refusal(char *buf, size_t buflen, int status);

#endif /* SC_SHELL_HTTPREQ_H */
