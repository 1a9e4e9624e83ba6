/*
 * The decoder of coded lines (see line_coding.ts for the layout): text whose
 * marks (0x01 and a kind byte) stand for a literal 0x01, a run of hex digits
 * or a UUID, and the ids, the bytes those digits spell. Built into
 * line_coding.wasm by `deno task build:wasm` (clang --target=wasm32
 * -msimd128 -mbulk-memory): a query decodes every coded block it reads, and
 * this does in one call what took JavaScript a call per mark.
 *
 * The caller lays the text, the ids and room for the lines out in this
 * module's memory, the room being enough for any text and ids (text + 2.25
 * times the ids: a UUID's 16 bytes give 36 characters).
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;

#define MARK 0x01
#define LITERAL_MARK 0x00
#define UUID_KIND 0x80
#define MIN_RUN_BYTES 8
#define MAX_RUN_BYTES 127

/* Errors, as negative lengths. */
#define UNKNOWN_MARK -1
#define IDS_END_EARLY -2
#define IDS_LEFT_OVER -3

extern u8 __heap_base;

static const char HEX_DIGITS[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Where the caller may lay out its buffers: past this module's data. */
__attribute__((export_name("heap_base"))) i32 heap_base(void) { return (i32)&__heap_base; }

/* The first MARK at or after `from`, or `len`: 16 bytes at a time. */
static i32 next_mark(const u8 *text, i32 from, i32 len) {
  const v128_t marks = wasm_i8x16_splat(MARK);
  i32 i = from;
  for (; i + 16 <= len; i += 16) {
    i32 hits = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(text + i), marks));
    if (hits) return i + __builtin_ctz(hits);
  }
  for (; i < len; i++) {
    if (text[i] == MARK) return i;
  }
  return len;
}

static u8 *hex(u8 *out, u8 byte) {
  out[0] = HEX_DIGITS[2 * byte];
  out[1] = HEX_DIGITS[2 * byte + 1];
  return out + 2;
}

/* Decodes `text` and `ids` into `out`; the length written, or an error (< 0). */
__attribute__((export_name("decode"))) i32 decode(const u8 *text, i32 text_len, const u8 *ids,
                                                  i32 ids_len, u8 *out) {
  u8 *o = out;
  i32 d = 0;
  for (i32 from = 0;;) {
    i32 at = next_mark(text, from, text_len);
    __builtin_memcpy(o, text + from, at - from);
    o += at - from;
    if (at == text_len) break;
    if (at + 1 == text_len) return UNKNOWN_MARK;
    u8 kind = text[at + 1];
    if (kind == LITERAL_MARK) {
      *o++ = MARK;
    } else if (kind == UUID_KIND) {
      if (d + 16 > ids_len) return IDS_END_EARLY;
      for (i32 n = 0; n < 16; n++) {
        if (n == 4 || n == 6 || n == 8 || n == 10) *o++ = '-';
        o = hex(o, ids[d++]);
      }
    } else if (kind >= MIN_RUN_BYTES && kind <= MAX_RUN_BYTES) {
      if (d + kind > ids_len) return IDS_END_EARLY;
      for (i32 end = d + kind; d < end; d++) o = hex(o, ids[d]);
    } else {
      return UNKNOWN_MARK;
    }
    from = at + 2;
  }
  if (d != ids_len) return IDS_LEFT_OVER;
  return (i32)(o - out);
}
