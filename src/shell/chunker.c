/*
 * chunker.c: cutting a byte stream into TS-aligned or plain chunks.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "chunker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpegts.h"
#include "sc_macro.h"

/* Sync bytes 188 apart needed to trust a sync point after a loss. */
#define RESYNC_PACKETS 3

int sc_chunker_init(sc_chunker *c, size_t max_payload, sc_chunker_emit_fn emit,
                    sc_chunker_pcr_fn gate, void *arg) {
  memset(c, 0, sizeof(*c));
  if (max_payload < SC_TS_PACKET) {
    return -1;
  }
  c->chunk = malloc(max_payload);
  if (c->chunk == NULL) {
    return -1;
  }
  c->emit = emit;
  c->gate = gate;
  c->arg = arg;
  c->max_payload = max_payload;
  c->kind = SC_CHUNKER_DETECTING;
  c->pcr_pid = -1;
  c->lead_at = SIZE_MAX;
  return 0;
}

void sc_chunker_free(sc_chunker *c) {
  free(c->chunk);
  c->chunk = NULL;
  c->chunk_len = 0;
  c->stage_len = 0;
}

int sc_chunker_is_blocked(const sc_chunker *c) { return c->blocked; }

static void emit_chunk(sc_chunker *c) {
  if (c->chunk_len == 0) {
    return;
  }
  c->stats.chunks_out++;
  c->emit(c->arg, c->chunk, c->chunk_len, c->chunk_clean);
  c->chunk_len = 0;
  c->lead_at = SIZE_MAX;
}

/* A keyframe begins: the chunk that holds it starts at the tables that
 * lead into it when they are in the current chunk, else at the keyframe's
 * packet. */
static void cut_for_keyframe(sc_chunker *c) {
  size_t lead = c->lead_at, rest;
  if (lead == SIZE_MAX) {
    emit_chunk(c);
    return;
  }
  if (lead > 0) {
    rest = c->chunk_len - lead;
    c->chunk_len = lead;
    emit_chunk(c);
    memmove(c->chunk, c->chunk + lead, rest);
    c->chunk_len = rest;
  }
  c->chunk_clean = 1;
  c->lead_at = SIZE_MAX;
}

/* Plain data: fill chunks to max_payload; each one is a place to start. */
static size_t take_raw(sc_chunker *c, size_t pos) {
  while (pos < c->stage_len) {
    size_t n = SC_MIN(c->stage_len - pos, c->max_payload - c->chunk_len);
    memcpy(c->chunk + c->chunk_len, c->stage + pos, n);
    c->chunk_len += n;
    c->chunk_clean = 1;
    pos += n;
    if (c->chunk_len == c->max_payload) {
      emit_chunk(c);
    }
  }
  return pos;
}

/* Puts the packet |p| into the current chunk, or returns 0 if the gate
 * holds it back. */
static int take_packet(sc_chunker *c, const uint8_t *p) {
  size_t cap = c->max_payload / SC_TS_PACKET * SC_TS_PACKET;
  unsigned pid = sc_ts_pid(p);
  uint64_t pcr;
  int rai;
  if (sc_ts_pcr(p, &pcr)) {
    if (c->pcr_pid < 0) {
      c->pcr_pid = (int)pid;
    }
    if ((int)pid == c->pcr_pid && c->gate != NULL && !c->draining &&
        c->gate(c->arg, pcr, sc_ts_has_discontinuity(p)) != 0) {
      return 0;
    }
  }
  rai = sc_ts_has_rai(p) && (c->pcr_pid < 0 || (int)pid == c->pcr_pid);
  if (rai) {
    cut_for_keyframe(c);
  } else if (c->pcr_pid >= 0 && (int)pid == c->pcr_pid) {
    c->lead_at = SIZE_MAX; /* a picture that is no keyframe: no lead-in */
  }
  if (c->chunk_len == 0) {
    c->chunk_clean = rai;
  }
  if (pid == 0 && c->lead_at == SIZE_MAX && !rai) {
    c->lead_at = c->chunk_len; /* a PAT: maybe the lead-in of a keyframe */
  }
  memcpy(c->chunk + c->chunk_len, p, SC_TS_PACKET);
  c->chunk_len += SC_TS_PACKET;
  c->stats.ts_packets++;
  if (c->chunk_len + SC_TS_PACKET > cap) {
    emit_chunk(c);
  }
  return 1;
}

static void discard(sc_chunker *c, size_t n) { c->stats.discarded_bytes += n; }

/* TS: takes whole packets from |pos| on, regaining sync where it is lost.
 * Returns the new position. */
static size_t take_ts(sc_chunker *c, size_t pos, int end) {
  for (;;) {
    size_t avail = c->stage_len - pos, off;
    if (!c->synced) {
      int r =
          sc_ts_find_sync(c->stage + pos, avail, RESYNC_PACKETS, end, 1, &off);
      discard(c, off);
      pos += off;
      if (r != SC_TS_YES) {
        break;
      }
      c->synced = 1;
      c->stats.resyncs++;
      avail = c->stage_len - pos;
    }
    if (avail < SC_TS_PACKET) {
      break;
    }
    if (c->stage[pos] != SC_TS_SYNC) {
      /* The chunk ends at the gap, so it never spans lost bytes. */
      c->stats.sync_losses++;
      c->synced = 0;
      emit_chunk(c);
      continue;
    }
    if (!take_packet(c, c->stage + pos)) {
      c->blocked = 1;
      break;
    }
    pos += SC_TS_PACKET;
  }
  if (end && !c->blocked) {
    discard(c, c->stage_len - pos); /* a partial packet or garbage */
    pos = c->stage_len;
  }
  return pos;
}

/* Consumes what it can of the stage. |how| is an enum sc_ts_detect_how. */
static void process(sc_chunker *c, int how) {
  size_t pos = 0, off;
  c->blocked = 0;
  if (c->kind == SC_CHUNKER_DETECTING) {
    switch (sc_ts_detect(c->stage, c->stage_len, how, &off)) {
    case SC_TS_YES:
      discard(c, off);
      pos = off;
      c->kind = SC_CHUNKER_TS;
      c->synced = 1;
      break;
    case SC_TS_NO:
      c->kind = SC_CHUNKER_RAW;
      break;
    default:
      return;
    }
  }
  if (c->kind == SC_CHUNKER_RAW) {
    pos = take_raw(c, pos);
  } else {
    pos = take_ts(c, pos, how == SC_TS_DETECT_FINAL);
  }
  memmove(c->stage, c->stage + pos, c->stage_len - pos);
  c->stage_len -= pos;
}

size_t sc_chunker_feed(sc_chunker *c, const uint8_t *data, size_t len) {
  size_t used = 0;
  do {
    size_t n = SC_MIN(len - used, sizeof(c->stage) - c->stage_len);
    if (n > 0) {
      memcpy(c->stage + c->stage_len, data + used, n);
    }
    c->stage_len += n;
    used += n;
    c->stats.bytes_in += n;
    process(c, SC_TS_DETECT_MORE);
    /* process() leaves less than a full stage unless the gate holds a
     * packet: detection decides within SC_TS_DETECT_MAX bytes and a lost
     * sync keeps at most two packets' worth. */
  } while (used < len && !c->blocked && c->stage_len < sizeof(c->stage));
  return used;
}

void sc_chunker_flush(sc_chunker *c, int end) {
  if (end) {
    c->draining = 1;
  }
  process(c, end ? SC_TS_DETECT_FINAL : SC_TS_DETECT_IDLE);
  emit_chunk(c);
}
