/*
 * sc_transport.h: the sealed DATA path of a session (doc/protocol.md §6,
 * §7): packet assembly and sealing, chunk processing, acknowledgements,
 * loss detection and probes, congestion control and pacing, reliable
 * messages, keepalives, idle timeout and path validation. Only
 * sc_session.c calls these.
 */
#ifndef SC_TRANSPORT_H
#define SC_TRANSPORT_H

#include "sc_session.h"

/* sc_transport_init sets up the transport state of a new session. */
void sc_transport_init(sc_session *s, uint64_t now);

/* sc_transport_free releases queued messages and sent-packet records. */
void sc_transport_free(sc_session *s);

/* sc_transport_on_timer runs the transport timers due at |now| and sends
 * what became due. */
void sc_transport_on_timer(sc_session *s, uint64_t now);

/* sc_transport_deadline returns the next transport timer. */
uint64_t sc_transport_deadline(const sc_session *s);

/* sc_transport_flush sends what is owed and allowed at |now|. */
void sc_transport_flush(sc_session *s, uint64_t now);

#endif /* SC_TRANSPORT_H */
