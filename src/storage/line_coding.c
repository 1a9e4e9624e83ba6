/*
 * The coder and decoder of coded lines (see line_coding.ts for the layout):
 * text whose marks (0x01 and a kind byte) stand for a literal 0x01, a run of
 * hex digits, a UUID or a time written in the line, and the ids, the bytes
 * those digits spell. A time is coded as its difference from its line's
 * timestamp, which the caller lays out as i64s, one a line. Built into
 * line_coding.wasm by `deno task build:wasm` (clang --target=wasm32
 * -msimd128 -mbulk-memory): compaction codes every block it writes and a
 * query decodes every coded block it reads, each in one call.
 *
 * The caller lays its input and room for the output out in this module's
 * memory: for coding, twice the lines for the text (a 0x01 takes two bytes)
 * and half for the ids; for decoding, the decoded length (at most 6 times the
 * text with times, and 2.25 times the ids: a UUID's 16 bytes give 36
 * characters), and 16 bytes more.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;
typedef long long i64;
typedef unsigned long long u64;

#define MARK 0x01
#define LITERAL_MARK 0x00
#define UUID_KIND 0x80
#define MIN_RUN_BYTES 8
#define MAX_RUN_BYTES 127
#define UUID_CHARS 36
#define ISO_TIME_KIND 0x81
#define CLF_TIME_KIND 0x82
/*
 * The room a time is written into: up to 35 characters
 * (2025-12-01T14:51:08.123456789+05:30), its date stored 16 bytes at a time.
 */
#define TIME_ROOM 48

/* Errors, as negative lengths. */
#define UNKNOWN_MARK -1
#define IDS_END_EARLY -2
#define IDS_LEFT_OVER -3
#define MARK_CUT -4
#define NO_LINE_FOR_TIME -5
#define OUT_OVERFLOW -6
#define BAD_TIME -7

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

/*
 * Copies n bytes 16 at a time, writing up to 15 past `to + n` (the caller
 * leaves room) and reading as far past `from + n`: most spans between marks
 * are short, and a memory.copy costs a call out of the module.
 */
static void copy(u8 *to, const u8 *from, i32 n) {
  if (n > 256) {
    __builtin_memcpy(to, from, n);
    return;
  }
  for (i32 k = 0; k < n; k += 16) wasm_v128_store(to + k, wasm_v128_load(from + k));
}

static u8 *hex(u8 *out, u8 byte) {
  out[0] = HEX_DIGITS[2 * byte];
  out[1] = HEX_DIGITS[2 * byte + 1];
  return out + 2;
}

/*
 * Times. A time mark's kind says how the date is written (ISO 8601, or the
 * common log format's 01/Dec/2025:14:56:36); the mark is followed by the
 * lines from the last time's line to this one's (a LEB128 varint: 1 in most
 * blocks, which zstd makes nearly free, and the decoder need not count
 * newlines), an ISO time's layout byte, the zone's offset in minutes when it
 * has one and the time's difference from its line's timestamp, in units of
 * its last digit, as zigzag LEB128 varints. Years 1900 to 2199 only: a time
 * in nanoseconds stays far inside an i64.
 */
#define MIN_YEAR 1900
#define MAX_YEAR 2199
/* Layout bits: digits of the fraction (0 to 9), separators, the zone. */
#define FRACTION_DIGITS 15
#define SPACE_SEPARATOR 16
#define COMMA_FRACTION 32
#define ZONE_Z (1 << 6)
#define ZONE_COLON (2 << 6)
#define ZONE_HHMM (3 << 6)
#define ZONE_BITS (3 << 6)
#define MAX_OFFSET (23 * 60 + 59)

static const i64 POW10[10] = {1,         10,         100,         1000,        10000,
                              100000,    1000000,    10000000,    100000000,   1000000000};
static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static inline i64 floor_div(i64 a, i64 b) {
  i64 q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

/* floor(a / 10^e): by constants, which compile to multiplications. */
static i64 floor_div_pow10(i64 a, i32 e) {
  switch (e) {
  case 0: return a;
  case 1: return floor_div(a, 10);
  case 2: return floor_div(a, 100);
  case 3: return floor_div(a, 1000);
  case 4: return floor_div(a, 10000);
  case 5: return floor_div(a, 100000);
  case 6: return floor_div(a, 1000000);
  case 7: return floor_div(a, 10000000);
  case 8: return floor_div(a, 100000000);
  default: return floor_div(a, 1000000000);
  }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static i64 days_from_civil(i64 y, i32 m, i32 d) {
  y -= m <= 2;
  i64 era = floor_div(y, 400);
  i64 yoe = y - era * 400;
  i64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(i64 z, i64 *y, i32 *m, i32 *d) {
  z += 719468;
  i64 era = floor_div(z, 146097);
  i64 doe = z - era * 146097;
  i64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  i64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  i64 mp = (5 * doy + 2) / 153;
  *d = (i32)(doy - (153 * mp + 2) / 5 + 1);
  *m = (i32)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static u8 *digits(u8 *out, u32 value, i32 count) {
  for (i32 i = count - 1; i >= 0; i--, value /= 10) out[i] = (u8)('0' + value % 10);
  return out + count;
}

/*
 * The last date written ("2025-12-01T", or "01/Dec/2025:"): the lines of a
 * block mostly share it, and the calendar's divisions cost more than the rest
 * of a time.
 */
static struct {
  i64 days;
  u8 kind, space;
  u8 text[16];
} last_date = {-1, 0, 0, {0}};

/* Writes the date and clock of `local` (seconds since the epoch, in the time's zone), into room for TIME_ROOM bytes: its length, or 0 when its year is out of range. */
static i32 write_clock(u8 *out, u8 kind, u8 space, i64 local) {
  i64 days = floor_div(local, 86400);
  if (days != last_date.days || kind != last_date.kind || space != last_date.space) {
    i64 y;
    i32 m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < MIN_YEAR || y > MAX_YEAR) return 0;
    u8 *o = last_date.text;
    if (kind == ISO_TIME_KIND) {
      o = digits(o, (u32)y, 4);
      *o++ = '-';
      o = digits(o, (u32)m, 2);
      *o++ = '-';
      o = digits(o, (u32)d, 2);
      *o++ = space ? ' ' : 'T';
    } else {
      o = digits(o, (u32)d, 2);
      *o++ = '/';
      __builtin_memcpy(o, MONTHS + 3 * (m - 1), 3);
      o += 3;
      *o++ = '/';
      o = digits(o, (u32)y, 4);
      *o++ = ':';
    }
    last_date.days = days;
    last_date.kind = kind;
    last_date.space = space;
  }
  wasm_v128_store(out, wasm_v128_load(last_date.text));
  u8 *o = out + (kind == ISO_TIME_KIND ? 11 : 12);
  u32 clock = (u32)(local - days * 86400);
  o = digits(o, clock / 3600, 2);
  *o++ = ':';
  o = digits(o, clock / 60 % 60, 2);
  *o++ = ':';
  o = digits(o, clock % 60, 2);
  return (i32)(o - out);
}

/* Writes the time `units` (of its last digit, since the epoch) as `kind` and `layout` say, into room for TIME_ROOM bytes: its length, or 0 when its year is out of range. */
static i32 write_time(u8 *out, u8 kind, u8 layout, i32 offset, i64 units) {
  i32 fraction = layout & FRACTION_DIGITS;
  i64 seconds = floor_div_pow10(units, fraction);
  // Wrapping: a damaged difference may put `seconds` anywhere; its year then is out of range.
  i64 local = (i64)((u64)seconds + (u64)((i64)offset * 60));
  i32 clock = write_clock(out, kind, layout & SPACE_SEPARATOR, local);
  if (clock == 0) return 0;
  u8 *o = out + clock;
  if (fraction) {
    *o++ = layout & COMMA_FRACTION ? ',' : '.';
    o = digits(o, (u32)(units - seconds * POW10[fraction]), fraction);
  }
  u8 zone = layout & ZONE_BITS;
  if (zone == ZONE_Z) {
    *o++ = 'Z';
  } else if (zone) {
    if (kind == CLF_TIME_KIND) *o++ = ' ';
    *o++ = offset < 0 ? '-' : '+';
    u32 minutes = (u32)(offset < 0 ? -offset : offset);
    o = digits(o, minutes / 60, 2);
    if (zone == ZONE_COLON) *o++ = ':';
    o = digits(o, minutes % 60, 2);
  }
  return (i32)(o - out);
}

/* The decimal number s[0, count), or -1. */
static i32 number(const u8 *s, i32 count) {
  i32 value = 0;
  for (i32 i = 0; i < count; i++) {
    u32 digit = (u32)s[i] - '0';
    if (digit > 9) return -1;
    value = value * 10 + (i32)digit;
  }
  return value;
}

/* A zone's offset in minutes (+hh:mm with `colon`, else +hhmm), or a value over MAX_OFFSET. */
static i32 zone_offset(const u8 *s, i32 colon) {
  if (s[0] != '+' && s[0] != '-') return MAX_OFFSET + 1;
  if (colon && s[3] != ':') return MAX_OFFSET + 1;
  i32 h = number(s + 1, 2);
  i32 m = number(s + 3 + colon, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59) return MAX_OFFSET + 1;
  return s[0] == '-' ? -(h * 60 + m) : h * 60 + m;
}

struct time {
  i64 units;
  i32 offset;
  u8 layout;
};

/* Reads a time written as `kind` at s[0, avail): its length, or 0. */
static i32 parse_time(const u8 *s, i32 avail, u8 kind, struct time *t) {
  i32 y, m = 0, d, n;
  u8 layout = 0;
  if (kind == ISO_TIME_KIND) {
    if (avail < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ')) return 0;
    y = number(s, 4);
    m = number(s + 5, 2);
    d = number(s + 8, 2);
    if (s[10] == ' ') layout |= SPACE_SEPARATOR;
    n = 11;
  } else {
    if (avail < 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ') return 0;
    d = number(s, 2);
    y = number(s + 7, 4);
    for (i32 k = 0; k < 12; k++) {
      const char *name = MONTHS + 3 * k;
      if (s[3] == name[0] && s[4] == name[1] && s[5] == name[2]) m = k + 1;
    }
    n = 12;
  }
  if (y < MIN_YEAR || y > MAX_YEAR || m < 1 || m > 12 || d < 1 || d > 31) return 0;
  if (s[n + 2] != ':' || s[n + 5] != ':') return 0;
  i32 h = number(s + n, 2), min = number(s + n + 3, 2), sec = number(s + n + 6, 2);
  if (h < 0 || h > 23 || min < 0 || min > 59 || sec < 0 || sec > 59) return 0;
  n += 8;
  i64 fraction = 0;
  i32 fraction_digits = 0;
  if (kind == ISO_TIME_KIND && n + 1 < avail && (s[n] == '.' || s[n] == ',') &&
      number(s + n + 1, 1) >= 0) {
    if (s[n] == ',') layout |= COMMA_FRACTION;
    for (n++; fraction_digits < 9 && n < avail && number(s + n, 1) >= 0; n++, fraction_digits++) {
      fraction = fraction * 10 + (s[n] - '0');
    }
    layout |= (u8)fraction_digits;
  }
  i32 offset = 0;
  if (kind == CLF_TIME_KIND) {
    offset = zone_offset(s + n + 1, 0);
    if (offset > MAX_OFFSET) return 0;
    layout |= ZONE_HHMM;
    n += 6;
  } else if (n < avail && s[n] == 'Z') {
    layout |= ZONE_Z;
    n++;
  } else if (n + 6 <= avail && (offset = zone_offset(s + n, 1)) <= MAX_OFFSET) {
    layout |= ZONE_COLON;
    n += 6;
  } else if (n + 5 <= avail && (offset = zone_offset(s + n, 0)) <= MAX_OFFSET) {
    layout |= ZONE_HHMM;
    n += 5;
  } else {
    offset = 0;
  }
  i64 seconds = days_from_civil(y, m, d) * 86400 + h * 3600 + min * 60 + sec - (i64)offset * 60;
  t->units = seconds * POW10[fraction_digits] + fraction;
  t->offset = offset;
  t->layout = layout;
  return n;
}

/* The timestamp `ts` (unix ns) in units of a time's last digit. */
static i64 ts_units(i64 ts, u8 layout) {
  return floor_div_pow10(ts, 9 - (layout & FRACTION_DIGITS));
}

static u8 *put_uvarint(u8 *out, u64 value) {
  for (; value >= 0x80; value >>= 7) *out++ = (u8)(value | 0x80);
  *out++ = (u8)value;
  return out;
}

static u8 *put_varint(u8 *out, i64 value) {
  return put_uvarint(out, (u64)value << 1 ^ (u64)(value >> 63));
}

/* Reads a LEB128 varint at text[at, len): where it ends, or -1 if it is cut. */
static i32 get_uvarint(const u8 *text, i32 at, i32 len, u64 *value) {
  u64 v = 0;
  for (i32 shift = 0; at < len && shift < 64; shift += 7) {
    u8 b = text[at++];
    v |= (u64)(b & 0x7f) << shift;
    if (b < 0x80) {
      *value = v;
      return at;
    }
  }
  return -1;
}

static i32 get_varint(const u8 *text, i32 at, i32 len, i64 *value) {
  u64 v = 0;
  at = get_uvarint(text, at, len, &v);
  *value = (i64)(v >> 1 ^ -(v & 1));
  return at;
}

/*
 * Decodes `text` and `ids` into `out` (room for `out_len` bytes, and 16
 * more for copies 16 bytes at a time, which also read up to 15 bytes past
 * `text`), with
 * `ts`, the timestamps of its `count` newline-terminated lines, for the times
 * in them: the length written, or an error (< 0).
 */
__attribute__((export_name("decode"))) i32 decode(const u8 *text, i32 text_len, const u8 *ids,
                                                  i32 ids_len, const i64 *ts, i32 count, u8 *out,
                                                  i32 out_len) {
  u8 *o = out;
  const u8 *out_end = out + out_len;
  /* The last time's line. */
  u64 line = 0;
  i32 d = 0;
  for (i32 from = 0;;) {
    i32 at = next_mark(text, from, text_len);
    if (at - from > out_end - o) return OUT_OVERFLOW;
    copy(o, text + from, at - from);
    o += at - from;
    if (at == text_len) break;
    if (at + 1 == text_len) return MARK_CUT;
    u8 kind = text[at + 1];
    from = at + 2;
    if (kind == LITERAL_MARK) {
      if (o == out_end) return OUT_OVERFLOW;
      *o++ = MARK;
    } else if (kind == UUID_KIND) {
      if (d + 16 > ids_len) return IDS_END_EARLY;
      if (out_end - o < UUID_CHARS) return OUT_OVERFLOW;
      for (i32 n = 0; n < 16; n++) {
        if (n == 4 || n == 6 || n == 8 || n == 10) *o++ = '-';
        o = hex(o, ids[d++]);
      }
    } else if (kind >= MIN_RUN_BYTES && kind <= MAX_RUN_BYTES) {
      if (d + kind > ids_len) return IDS_END_EARLY;
      if (out_end - o < 2 * kind) return OUT_OVERFLOW;
      for (i32 end = d + kind; d < end; d++) o = hex(o, ids[d]);
    } else if (kind == ISO_TIME_KIND || kind == CLF_TIME_KIND) {
      u64 lines;
      if ((from = get_uvarint(text, from, text_len, &lines)) < 0) return MARK_CUT;
      if (lines >= (u64)count - line) return NO_LINE_FOR_TIME;
      line += lines;
      u8 layout = ZONE_HHMM;
      if (kind == ISO_TIME_KIND) {
        if (from == text_len) return MARK_CUT;
        layout = text[from++];
        if ((layout & FRACTION_DIGITS) > 9) return BAD_TIME;
      }
      i64 offset = 0, delta;
      if ((layout & ZONE_BITS) >= ZONE_COLON) {
        if ((from = get_varint(text, from, text_len, &offset)) < 0) return MARK_CUT;
        if (offset < -MAX_OFFSET || offset > MAX_OFFSET) return BAD_TIME;
      }
      if ((from = get_varint(text, from, text_len, &delta)) < 0) return MARK_CUT;
      i64 units = (i64)((u64)ts_units(ts[line], layout) + (u64)delta);
      if (out_end - o >= TIME_ROOM) {
        i32 n = write_time(o, kind, layout, (i32)offset, units);
        if (n == 0) return BAD_TIME;
        o += n;
      } else {
        u8 time[TIME_ROOM];
        i32 n = write_time(time, kind, layout, (i32)offset, units);
        if (n == 0) return BAD_TIME;
        if (out_end - o < n) return OUT_OVERFLOW;
        __builtin_memcpy(o, time, n);
        o += n;
      }
    } else {
      return UNKNOWN_MARK;
    }
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
 * Codes a time written as `kind` at lines[0, avail) into `text`, against
 * `ts`, its line's timestamp: where the text ends, or `text` if it is not a
 * time that reads back as written (a date like 2025-02-30, a zone of -00:00).
 */
static u8 *code_time(const u8 *lines, i32 avail, u8 kind, i32 line_gap, i64 ts, u8 *text,
                     i32 *length) {
  struct time t;
  u8 time[TIME_ROOM];
  i32 n = parse_time(lines, avail, kind, &t);
  if (n == 0 || write_time(time, kind, t.layout, t.offset, t.units) != n) return text;
  for (i32 k = 0; k < n; k++) {
    if (time[k] != lines[k]) return text;
  }
  *length = n;
  *text++ = MARK;
  *text++ = kind;
  text = put_uvarint(text, (u64)line_gap);
  if (kind == ISO_TIME_KIND) *text++ = t.layout;
  if ((t.layout & ZONE_BITS) >= ZONE_COLON) text = put_varint(text, t.offset);
  return put_varint(text, (i64)((u64)t.units - (u64)ts_units(ts, t.layout)));
}

/*
 * Codes `lines` into `text` and `ids`: the text's length (the ids' by
 * coded_ids). Hex runs go in whole bytes, in chunks of 8 to 127; what is left
 * of a run (under 8 bytes, an odd digit) stays text. Times are coded when
 * `count` > 0: the lines are then newline-terminated, and `ts` holds their
 * timestamps.
 */
__attribute__((export_name("code"))) i32 code(const u8 *lines, i32 len, const i64 *ts, i32 count,
                                              u8 *text, u8 *ids) {
  i32 t = 0;
  i32 d = 0;
  i32 i = 0;
  i32 line = 0, time_line = 0;
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
      line += c == '\n';
      i++;
      continue;
    }
    i32 end = i + 1;
    while (end < len && hex_value(lines[end]) >= 0) end++;
    if (line < count && end < len &&
        ((end - i == 4 && lines[end] == '-') || (end - i == 2 && lines[end] == '/'))) {
      i32 length = 0;
      u8 kind = lines[end] == '-' ? ISO_TIME_KIND : CLF_TIME_KIND;
      t = (i32)(code_time(lines + i, len - i, kind, line - time_line, ts[line], text + t, &length) -
                text);
      if (length) {
        i += length;
        time_line = line;
        continue;
      }
    }
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

/*
 * Where each of the first `count` newline-terminated lines of `lines` ends
 * (the offset of its newline), 16 bytes at a time: a query finds the lines of
 * every block it reads. How many it found; fewer than `count` when the
 * newlines run out.
 */
__attribute__((export_name("line_ends"))) i32 line_ends(const u8 *lines, i32 len, u32 *ends,
                                                        i32 count) {
  const v128_t newline = wasm_i8x16_splat('\n');
  i32 found = 0;
  i32 i = 0;
  for (; i + 16 <= len && found < count; i += 16) {
    u32 hits = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(lines + i), newline));
    for (; hits && found < count; hits &= hits - 1) ends[found++] = i + __builtin_ctz(hits);
  }
  for (; i < len && found < count; i++) {
    if (lines[i] == '\n') ends[found++] = i;
  }
  return found;
}
