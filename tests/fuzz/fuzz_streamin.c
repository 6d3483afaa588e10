/*
 * fuzz_streamin.c: the stream I/O's decoders of untrusted bytes: the
 * chunker (MPEG-TS detection, resync, PCR gate) and the HTTP request head.
 *
 * Input: byte 0 picks the chunk size and byte 1 the size of the pieces
 * fed; the rest is the stream, which also goes to the HTTP parser. The
 * gate holds every other PCR packet, so held packets are offered again.
 * Checked: chunks are 1..max_payload bytes, whole sync-led packets once
 * the stream is TS; no byte is lost or made up (emitted + discarded =
 * fed); a parsed head lies within the input.
 */
#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "fuzz_common.h"
#include "httpreq.h"
#include "mpegts.h"

struct run {
  sc_chunker c;
  size_t emitted;
  int hold;
};

static void check(int ok) {
  if (!ok) {
    abort(); /* a decoder broke its own contract */
  }
}

static void on_chunk(void *arg, const uint8_t *data, size_t len, int clean) {
  struct run *r = arg;
  size_t i;
  check(len >= 1 && len <= r->c.max_payload);
  check(clean == 0 || clean == 1);
  if (r->c.kind == SC_CHUNKER_TS) {
    check(len % SC_TS_PACKET == 0);
    for (i = 0; i < len; i += SC_TS_PACKET) {
      check(data[i] == SC_TS_SYNC);
    }
  } else {
    check(clean == 1);
  }
  r->emitted += len;
}

static int gate(void *arg, uint64_t pcr, int discontinuity) {
  struct run *r = arg;
  check(pcr < SC_TS_PCR_MODULUS);
  (void)discontinuity;
  r->hold = !r->hold;
  return r->hold;
}

static void chunk_all(const uint8_t *data, size_t size, size_t max_payload,
                      size_t piece) {
  struct run r;
  size_t off = 0;
  memset(&r, 0, sizeof(r));
  check(sc_chunker_init(&r.c, max_payload, on_chunk, gate, &r) == 0);
  while (off < size) {
    size_t n = size - off < piece ? size - off : piece;
    size_t used = sc_chunker_feed(&r.c, data + off, n);
    check(used <= n);
    check(used == n || sc_chunker_is_blocked(&r.c));
    off += used;
    if (used < n) {
      sc_chunker_flush(&r.c, 0); /* an idle pause while held */
    }
  }
  sc_chunker_flush(&r.c, 1);
  check(!sc_chunker_is_blocked(&r.c));
  check(r.c.stats.bytes_in == size);
  check(r.emitted + r.c.stats.discarded_bytes == size);
  sc_chunker_free(&r.c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t max_payload, piece, head_len = 0;
  int rc;
  if (size < 2) {
    return 0;
  }
  max_payload = SC_TS_PACKET + (size_t)data[0] * 16;
  piece = 1 + (size_t)data[1] * 37;
  data += 2;
  size -= 2;
  chunk_all(data, size, max_payload, piece);
  rc = sc_httpreq_parse((const char *)data, size, &head_len);
  check(rc >= SC_HTTPREQ_MORE && rc <= SC_HTTPREQ_TOO_LARGE);
  if (rc == SC_HTTPREQ_GET || rc == SC_HTTPREQ_METHOD) {
    const char *target;
    size_t target_len;
    check(head_len >= 4 && head_len <= size);
    sc_httpreq_target((const char *)data, head_len, &target, &target_len);
    check(target > (const char *)data && target_len > 0 &&
          target + target_len < (const char *)data + head_len);
  }
  return 0;
}

/* A TS packet of |pid|, a keyframe with a PCR when |key|. */
static void put_pkt(uint8_t *p, unsigned pid, int key, uint64_t pcr) {
  memset(p, 0xff, SC_TS_PACKET);
  p[0] = SC_TS_SYNC;
  p[1] = (uint8_t)(pid >> 8);
  p[2] = (uint8_t)pid;
  p[3] = key ? 0x30 : 0x10;
  if (key) {
    uint64_t base = pcr / 300;
    p[4] = 7;
    p[5] = 0x50;
    p[6] = (uint8_t)(base >> 25);
    p[7] = (uint8_t)(base >> 17);
    p[8] = (uint8_t)(base >> 9);
    p[9] = (uint8_t)(base >> 1);
    p[10] = (uint8_t)(((base & 1) << 7) | 0x7e);
    p[11] = 0;
  }
}

void fuzz_seeds(fuzz_emit_fn emit, void *arg) {
  static const char *texts[] = {
      "\x05\x03GET /live.ts HTTP/1.1\r\nHost: a\r\n\r\n",
      "\x40\x00POST / HTTP/1.0\nContent-Length: 1\n\nx",
      "\x00\xffjust some text, not a transport stream at all",
  };
  uint8_t buf[2 + 3 + 30 * SC_TS_PACKET + 50];
  size_t i, len;
  for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    emit(arg, (const uint8_t *)texts[i], strlen(texts[i]));
  }
  /* Garbage, TS with keyframes and PCRs, garbage again, more TS. */
  len = 0;
  buf[len++] = 0x42;
  buf[len++] = 0x07;
  memcpy(buf + len, "xyz", 3);
  len += 3;
  for (i = 0; i < 30; i++) {
    if (i == 20) {
      memset(buf + len, 0x47, 50);
      len += 50;
    }
    put_pkt(buf + len, i % 3 == 0 ? 0x100 : 0x101, i % 10 == 0,
            (uint64_t)i * 270000);
    len += SC_TS_PACKET;
  }
  emit(arg, buf, len);
}
