/*
 * The coder and decoder of coded lines (see line_coding.ts for the layout):
 * text whose marks (0x01 and a kind byte) stand for a literal 0x01, a run of
 * hex digits or a UUID, and the ids, the bytes those digits spell. Built into
 * line_coding.wasm by `deno task build:wasm` (clang --target=wasm32
 * -msimd128 -mbulk-memory): compaction codes every block it writes and a
 * query decodes every coded block it reads, each in one call.
 *
 * The caller lays its input and room for the output out in this module's
 * memory: for coding, twice the lines for the text (a 0x01 takes two bytes)
 * and half for the ids; for decoding, the text plus 2.25 times the ids (a
 * UUID's 16 bytes give 36 characters).
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;

#define MARK 0x01
#define LITERAL_MARK 0x00
#define UUID_KIND 0x80
#define MIN_RUN_BYTES 8
#define MAX_RUN_BYTES 127
#define UUID_CHARS 36

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

/* A lowercase hex digit's value, or -1. */
static i32 hex_value(u8 c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Whether lines[at, at + 36) is a lowercase UUID (8-4-4-4-12 digits). */
static i32 is_uuid(const u8 *lines, i32 at, i32 len) {
  if (at + UUID_CHARS > len) return 0;
  for (i32 i = 0; i < UUID_CHARS; i++) {
    u8 c = lines[at + i];
    if (i == 8 || i == 13 || i == 18 || i == 23 ? c != '-' : hex_value(c) < 0) return 0;
  }
  return 1;
}

static i32 ids_length;

/* The ids the last `code` wrote. */
__attribute__((export_name("coded_ids"))) i32 coded_ids(void) { return ids_length; }

static u8 hex_byte(const u8 *digits) {
  return (u8)(hex_value(digits[0]) << 4 | hex_value(digits[1]));
}

/*
 * Codes `lines` into `text` and `ids`: the text's length (the ids' by
 * coded_ids). Hex runs go in whole bytes, in chunks of 8 to 127; what is left
 * of a run (under 8 bytes, an odd digit) stays text.
 */
__attribute__((export_name("code"))) i32 code(const u8 *lines, i32 len, u8 *text, u8 *ids) {
  i32 t = 0;
  i32 d = 0;
  i32 i = 0;
  while (i < len) {
    u8 c = lines[i];
    if (c == MARK) {
      text[t++] = MARK;
      text[t++] = LITERAL_MARK;
      i++;
      continue;
    }
    if (hex_value(c) < 0) {
      text[t++] = c;
      i++;
      continue;
    }
    i32 end = i + 1;
    while (end < len && hex_value(lines[end]) >= 0) end++;
    if (end - i == 8 && end < len && lines[end] == '-' && is_uuid(lines, i, len)) {
      text[t++] = MARK;
      text[t++] = UUID_KIND;
      for (i32 k = 0; k < UUID_CHARS; k += 2) {
        if (lines[i + k] == '-') k++;
        ids[d++] = hex_byte(lines + i + k);
      }
      i += UUID_CHARS;
      continue;
    }
    for (i32 bytes = (end - i) >> 1; bytes >= MIN_RUN_BYTES;) {
      i32 k = bytes < MAX_RUN_BYTES ? bytes : MAX_RUN_BYTES;
      text[t++] = MARK;
      text[t++] = (u8)k;
      for (i32 n = 0; n < k; n++, i += 2) ids[d++] = hex_byte(lines + i);
      bytes -= k;
    }
    while (i < end) text[t++] = lines[i++];
  }
  ids_length = d;
  return t;
}
