/*
 * httpreq.h: the request head of an HTTP/1.x client of the HTTP sink
 * (RFC 9112 §3 request line, §5 field lines).
 *
 * The sink serves one resource, so only the shape of the head and its
 * method matter: the target and the fields are checked for syntax and
 * otherwise ignored. Bare LF line ends are accepted (RFC 9112 §2.2).
 */
#ifndef SC_SHELL_HTTPREQ_H
#define SC_SHELL_HTTPREQ_H

#include <stddef.h>

enum sc_httpreq_result {
  SC_HTTPREQ_MORE = 0,      /* the head is not complete yet */
  SC_HTTPREQ_GET = 1,       /* a well-formed GET */
  SC_HTTPREQ_METHOD = 2,    /* well-formed, another method: answer 405 */
  SC_HTTPREQ_MALFORMED = 3, /* answer 400 */
};

/* sc_httpreq_parse looks at the |len| bytes received so far in |buf|. When
 * they hold a complete head (up to the empty line) it returns what it is
 * and stores the head's length in |*head_len|; otherwise it returns
 * SC_HTTPREQ_MORE, or SC_HTTPREQ_MALFORMED as soon as the bytes cannot
 * start a valid head. */
int sc_httpreq_parse(const char *buf, size_t len, size_t *head_len);

#endif /* SC_SHELL_HTTPREQ_H */
