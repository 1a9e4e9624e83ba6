/*
 * The fast path of Elasticsearch bulk bodies (see bulk_scan.ts): reads the
 * lines of a body chunk -- action lines, each distinct one asked of the
 * caller once, and document lines -- and each document into the values of
 * the fields the mapping names, the structured-metadata JSON of the others
 * and a stream slot, as `es_bulk.ts` maps a parsed document, without
 * building objects. Built into bulk_scan.wasm by `deno task build:wasm`
 * (clang --target=wasm32 -msimd128); bulk_scan_test.ts holds it to the
 * answers of JSON.parse.
 *
 * It takes the documents most shippers send: objects (nested ones are
 * flattened with `.`) whose values are strings, integers of up to 15 digits,
 * true, false or null. Anything else -- arrays, other numbers, escaped keys,
 * surrogate escapes, keys that are array indices or `__proto__`, repeated
 * keys, empty objects, invalid JSON -- is declined (status 1), and the
 * caller maps that document with JSON.parse, which answers it exactly.
 *
 * Text goes to OUT as UTF-8, counted in UTF-16 units, so the caller decodes
 * OUT a page at a time and slices every value out of its page's string.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef long long i64;

#define IN_CAP (1 << 20)
#define OUT_CAP (3 << 20)
#define MAX_NAMES 64
#define MAX_NAME_BYTES 256
#define MAX_DOCS 4096
#define HEAD_INTS 14
#define REC_INTS (HEAD_INTS + 3 * MAX_NAMES)
#define MAX_FIELDS 256
#define MAX_PATH 1024
#define KEYS_CAP 65536
#define MAX_DEPTH 16
#define NAME_SLOTS 512

/* Status of a document. */
#define OK 0
#define DECLINED 1

/* Kinds of a value. */
#define ABSENT 0
#define STRING 1
#define INTEGER 2
#define TRUE 3
#define FALSE 4
#define NUL 5
/* A value the caller does not read, left out of OUT (see keep_read). */
#define DROPPED 6

/* Name flags: bit 0, the time field or a stream field; bit 1, a stream field; bits 8 on, the rank among message fields (1 = first). */
#define EXCLUDED 1
#define STREAM 2

/* Inputs and outputs, read and written by the caller through the pointers below (+16: SIMD loads past the end). */
static u8 IN[IN_CAP + 16];
static u8 OUT[OUT_CAP + 16];
static i32 REC[MAX_DOCS * REC_INTS] __attribute__((aligned(8)));
static u8 NAMES[MAX_NAMES * MAX_NAME_BYTES];
static u32 NAME_LEN[MAX_NAMES];
static i32 NAME_FLAGS[MAX_NAMES];
static u32 n_names;
static i32 time_id;

/* The chunk's length in IN, and the end of the document line read last. */
static u32 chunk_len, doc_end;
/*
 * OUT is cut into pages of about PAGE_BYTES at document boundaries, which
 * the caller decodes one by one: strings of that size are young objects to
 * V8, where one string of the whole chunk would be a large object, mapped
 * afresh each time. UTF-16 units count from the page's start.
 */
#define PAGE_BYTES 32768
#define MAX_PAGES (OUT_CAP / PAGE_BYTES + MAX_DOCS)
static u32 page_at[MAX_PAGES + 1], n_pages;
/* OUT's end, in bytes and in UTF-16 units. */
static u32 o, units;
/* The document being read: IN[p..end). */
static u32 p, end;
/* Set when OUT or a scratch buffer would overflow, or the document is outside the fast path. */
static int declined;

/* A leaf field of the document being read. */
typedef struct {
  u32 key, key_len; /* its flattened key in KEYS */
  i32 id;           /* the mapping's name it is, or -1 */
  i32 kind;
  u32 at, len;      /* value bytes in OUT (strings and integers) */
  u32 ua, ub;       /* the same as UTF-16 units */
} Field;

static Field fields[MAX_FIELDS];
static u32 n_fields;
static u8 KEYS[KEYS_CAP];
static u32 keys_len;
static u8 PATH[MAX_PATH];

/*
 * The top-level keys of the last document, by place: documents of one body
 * mostly repeat their keys in order, so a key equal to the one at its place
 * in the last document is known by one 16-byte comparison, with the name it
 * is. A cached key is stored with its closing quote (at most 15 bytes).
 */
#define KEY_CACHE 32
static u8 KC_BYTES[KEY_CACHE][16] __attribute__((aligned(16)));
static u32 KC_LEN[KEY_CACHE];
static i32 KC_ID[KEY_CACHE];
/* Cache places 0..kc_distinct-1 hold pairwise different keys (those of the last document read whole). */
static u32 kc_distinct;
/* Whether the key just read was found in the cache. */
static int key_hit;
#define MAX_OBJECT_KEYS 256
/* The place of the next top-level key in the document being read. */
static u32 key_place;
/* The name the key just read is (-2: not known yet: the key is PATH's), and its bytes when known. */
static i32 key_id;
static const u8 *key_src;

/* Metadata names seen in this document: an open-addressed table cleared by generation. */
static u32 name_slot_gen[NAME_SLOTS];
static u32 name_slot_at[NAME_SLOTS], name_slot_len[NAME_SLOTS];
static u32 gen;

__attribute__((export_name("in_ptr"))) u8 *in_ptr(void) { return IN; }
__attribute__((export_name("out_ptr"))) u8 *out_ptr(void) { return OUT; }
__attribute__((export_name("rec_ptr"))) i32 *rec_ptr(void) { return REC; }
__attribute__((export_name("names_ptr"))) u8 *names_ptr(void) { return NAMES; }
__attribute__((export_name("name_len_ptr"))) u32 *name_len_ptr(void) { return NAME_LEN; }
__attribute__((export_name("name_flags_ptr"))) i32 *name_flags_ptr(void) { return NAME_FLAGS; }
__attribute__((export_name("in_cap"))) u32 in_cap(void) { return IN_CAP; }
__attribute__((export_name("max_names"))) u32 max_names(void) { return MAX_NAMES; }
__attribute__((export_name("max_name_bytes"))) u32 max_name_bytes(void) { return MAX_NAME_BYTES; }
__attribute__((export_name("rec_ints"))) u32 rec_ints(void) { return REC_INTS; }
__attribute__((export_name("out_len"))) u32 out_len(void) { return o; }
__attribute__((export_name("pages"))) u32 pages(void) { return n_pages; }
__attribute__((export_name("page_ptr"))) u32 *page_ptr(void) { return page_at; }
__attribute__((export_name("head_ints"))) u32 head_ints(void) { return HEAD_INTS; }

/*
 * Stream slots: documents whose stream fields hold the same values (same
 * kinds, same text) share a slot, so the caller labels each slot once. A
 * slot's key is kind, length and text of each stream field in name order;
 * the last document's slot is tried first. Slots last across chunks and
 * bodies of one mapping; when the table is full, documents get none until
 * the next chunk starts it afresh, in a new generation.
 */
#define SLOTS 512
#define SLOT_KEYS_CAP 65536
#define KEY_TMP_CAP 4096
static u8 SLOT_KEYS[SLOT_KEYS_CAP];
static u32 slot_keys_len, n_slots, stream_slot_at[SLOTS], stream_slot_len[SLOTS], stream_slot_hash[SLOTS];
static i32 slot_table[SLOTS * 2];
static i32 last_slot;
static u8 KEY_TMP[KEY_TMP_CAP];

static u32 slot_generation, configured = 0xffffffff;
/* Set by the caller once it has labelled a slot: the slot's documents then need no stream field values. */
static u8 SLOT_LABELLED[SLOTS];

static void reset_slots(void) {
  slot_generation++;
  slot_keys_len = n_slots = 0;
  last_slot = -1;
  for (u32 i = 0; i < SLOTS * 2; i++) slot_table[i] = -1;
  for (u32 i = 0; i < SLOTS; i++) SLOT_LABELLED[i] = 0;
}

/*
 * The mapping's names are in NAMES (name i at i * MAX_NAME_BYTES), NAME_LEN
 * and NAME_FLAGS; `mapping` tells mappings apart: a new one empties the key
 * cache and the stream slots.
 */
__attribute__((export_name("configure"))) void configure(u32 n, i32 time, u32 mapping) {
  n_names = n;
  time_id = time;
  if (mapping == configured) return;
  configured = mapping;
  for (u32 i = 0; i < KEY_CACHE; i++) KC_LEN[i] = 0;
  kc_distinct = 0;
  reset_slots();
}

/*
 * Shuffles that drop the bytes a mask marks from 8 bytes, keeping the others
 * in order: COMPRESS[m] for mask m (bit i: byte i goes).
 */
static u8 COMPRESS[256][8] __attribute__((aligned(8)));
static int compress_ready;

static void init_compress(void) {
  for (u32 m = 0; m < 256; m++) {
    u32 j = 0;
    for (u32 i = 0; i < 8; i++) {
      if (!(m >> i & 1)) COMPRESS[m][j++] = (u8)i;
    }
    while (j < 8) COMPRESS[m][j++] = 0;
  }
  compress_ready = 1;
}

/* Starts a chunk: OUT empty. */
static void begin(void) {
  if (!compress_ready) init_compress();
  o = units = 0;
  n_pages = 1;
  page_at[0] = 0;
}

static int room(u32 n) {
  if (o + n > OUT_CAP) declined = 1;
  return !declined;
}

/* UTF-16 units of the UTF-8 bytes s[0..n): one per lead byte, two for a 4-byte sequence. */
static u32 units_of(const u8 *s, u32 n) {
  u32 u = 0;
  for (u32 i = 0; i < n; i++) u += ((s[i] & 0xc0) != 0x80) + (s[i] >= 0xf0);
  return u;
}

static void put(const u8 *s, u32 n) {
  if (!room(n)) return;
  for (u32 i = 0; i < n; i++) OUT[o + i] = s[i];
  o += n;
  units += units_of(s, n);
}

static void put_byte(u8 c) {
  if (!room(1)) return;
  OUT[o++] = c;
  units++;
}

static void ws(void) {
  while (p < end) {
    u8 c = IN[p];
    if (c != ' ' && c != '\t' && c != '\r') break; /* JSON's white space but '\n', which ends the line */
    p++;
  }
}

static int hex(u8 c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Bytes of a run with no '"', '\\' or control byte from s, at most `max` (16 at a time). */
static u32 plain_run(const u8 *s, u32 max) {
  u32 k = 0;
  const v128_t quote = wasm_i8x16_splat('"'), slash = wasm_i8x16_splat('\\'), space = wasm_i8x16_splat(0x20);
  while (k < max) {
    v128_t v = wasm_v128_load(s + k);
    v128_t special = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, slash)), wasm_u8x16_lt(v, space));
    u32 bits = wasm_i8x16_bitmask(special);
    if (bits != 0) {
      k += __builtin_ctz(bits);
      break;
    }
    k += 16;
  }
  return k < max ? k : max;
}

/*
 * Reads the JSON string at p (after its '"') into OUT, 16 bytes at a time,
 * counting UTF-16 units. A block of ASCII whose only escapes are `\"` is
 * copied whole, its backslashes dropped by two shuffles (most escapes in
 * logs are quotes: a JSON or access-log line holds about twenty); any other
 * escape is read one at a time. Unescaped text is never longer than its
 * JSON, so one capacity check covers it.
 */
static void read_string(void) {
  const v128_t quote = wasm_i8x16_splat('"'), slash = wasm_i8x16_splat('\\'), space = wasm_i8x16_splat(0x20);
  const v128_t top2 = wasm_i8x16_splat((char)0xc0), cont = wasm_i8x16_splat((char)0x80), four = wasm_i8x16_splat((char)0xef);
  const v128_t eight = wasm_i8x16_splat(8);
  if (!room(end - p)) return;
  u32 ip = p, op = o, uc = units;
  for (;;) {
    if (ip >= end) goto refuse;
    u32 avail = end - ip;
    u32 valid = avail >= 16 ? 0xffff : (1u << avail) - 1;
    v128_t v = wasm_v128_load(IN + ip);
    u32 q = wasm_i8x16_bitmask(wasm_i8x16_eq(v, quote)) & valid;
    u32 b = wasm_i8x16_bitmask(wasm_i8x16_eq(v, slash)) & valid;
    u32 c = wasm_i8x16_bitmask(wasm_u8x16_lt(v, space)) & valid;
    u32 high = wasm_i8x16_bitmask(v) & valid;
    u32 escaped = (b << 1) & 0xffff; /* the byte after each backslash */
    if (!high && (escaped & ~q) == 0 && !(b & 0x8000)) {
      /* ASCII, every backslash before a quote: up to the first unescaped quote or control byte. */
      u32 stop = (q & ~escaped) | c;
      u32 t = stop ? (u32)__builtin_ctz(stop) : 16;
      if (t == 16 && avail < 16) goto refuse;
      u32 drop = b & ((1u << t) - 1);
      u32 lo = drop & 0xff, hi = drop >> 8;
      u32 n_lo = (t < 8 ? t : 8) - __builtin_popcount(lo);
      u32 n_hi = (t > 8 ? t - 8 : 0) - __builtin_popcount(hi);
      v128_t s = wasm_v128_load64_zero(COMPRESS[lo]);
      wasm_v128_store(OUT + op, wasm_i8x16_swizzle(v, s));
      v128_t s2 = wasm_i8x16_add(wasm_v128_load64_zero(COMPRESS[hi]), eight);
      wasm_v128_store(OUT + op + n_lo, wasm_i8x16_swizzle(v, s2));
      op += n_lo + n_hi;
      uc += n_lo + n_hi;
      ip += t;
      if (t == 16) continue;
      if (c & (1u << t)) goto refuse; /* a control byte: JSON.parse refuses it */
      ip++;
      break;
    }
    wasm_v128_store(OUT + op, v); /* OUT has 16 bytes to spare past its capacity */
    u32 special = q | b | c;
    u32 n = special ? (u32)__builtin_ctz(special) : 16;
    if (n > avail) n = avail;
    u32 keep = n == 16 ? 0xffff : (1u << n) - 1;
    if (high & keep) { /* bytes past ASCII: count their UTF-16 units */
      u32 conts = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_and(v, top2), cont)) & keep;
      u32 fours = wasm_i8x16_bitmask(wasm_u8x16_gt(v, four)) & keep;
      uc += n - __builtin_popcount(conts) + __builtin_popcount(fours);
    } else {
      uc += n;
    }
    op += n;
    ip += n;
    if (n == 16) continue;
    if (ip + 1 >= end) goto refuse;
    u8 ch = IN[ip];
    if (ch == '"') {
      ip++;
      break;
    }
    if (ch != '\\') goto refuse; /* a control byte: JSON.parse refuses it */
    u8 e = IN[ip + 1];
    ip += 2;
    u8 out;
    switch (e) {
      case '"': case '\\': case '/': out = e; break;
      case 'b': out = '\b'; break;
      case 'f': out = '\f'; break;
      case 'n': out = '\n'; break;
      case 'r': out = '\r'; break;
      case 't': out = '\t'; break;
      case 'u': {
        if (ip + 4 > end) goto refuse;
        int h0 = hex(IN[ip]), h1 = hex(IN[ip + 1]), h2 = hex(IN[ip + 2]), h3 = hex(IN[ip + 3]);
        if ((h0 | h1 | h2 | h3) < 0) goto refuse;
        u32 cp = (u32)(h0 << 12 | h1 << 8 | h2 << 4 | h3);
        ip += 4;
        if (cp >= 0xd800 && cp <= 0xdfff) goto refuse; /* surrogates: left to JSON.parse */
        if (cp < 0x80) {
          OUT[op++] = (u8)cp;
        } else if (cp < 0x800) {
          OUT[op++] = 0xc0 | cp >> 6;
          OUT[op++] = 0x80 | (cp & 0x3f);
        } else {
          OUT[op++] = 0xe0 | cp >> 12;
          OUT[op++] = 0x80 | (cp >> 6 & 0x3f);
          OUT[op++] = 0x80 | (cp & 0x3f);
        }
        uc++;
        continue;
      }
      default:
        goto refuse;
    }
    OUT[op++] = out;
    uc++;
  }
  o = op;
  units = uc;
  p = ip;
  return;
refuse:
  declined = 1;
}

static int same_bytes(const u8 *a, const u8 *b, u32 n) {
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    if (wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(a + i), wasm_v128_load(b + i))) != 0xffff) return 0;
  }
  for (; i < n; i++) if (a[i] != b[i]) return 0;
  return 1;
}

/* The mapping's name that PATH[0..len) is, or -1. */
static i32 name_id(u32 len) {
  for (u32 i = 0; i < n_names; i++) {
    if (NAME_LEN[i] != len) continue;
    const u8 *n = NAMES + i * MAX_NAME_BYTES;
    u32 j = 0;
    while (j < len && n[j] == PATH[j]) j++;
    if (j == len) return (i32)i;
  }
  return -1;
}

/* Reads a key at p (after its '"') onto PATH[at..): plain keys only. Returns its end in PATH. */
static u32 read_key(u32 at) {
  key_id = -2;
  key_hit = 0;
  u32 place = at == 0 ? key_place++ : KEY_CACHE;
  if (place < KEY_CACHE && KC_LEN[place] != 0 && p + 16 <= end) {
    u32 n = KC_LEN[place]; /* with the quote */
    u32 same = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(IN + p), wasm_v128_load(KC_BYTES[place])));
    u32 want = (1u << n) - 1;
    if ((same & want) == want) {
      key_src = IN + p;
      key_hit = 1;
      p += n;
      key_id = KC_ID[place];
      return n - 1;
    }
  }
  u32 run = plain_run(IN + p, end - p);
  if (p + run >= end || IN[p + run] != '"' || at + run > MAX_PATH) {
    declined = 1;
    return at;
  }
  const u8 *k = IN + p;
  int digits = run > 0;
  for (u32 i = 0; i < run; i++) digits &= k[i] >= '0' && k[i] <= '9';
  static const u8 proto[] = "__proto__";
  int is_proto = run == 9;
  for (u32 i = 0; is_proto && i < 9; i++) is_proto = k[i] == proto[i];
  if (digits || is_proto) { /* object key order and __proto__ are JSON.parse's to decide */
    declined = 1;
    return at;
  }
  for (u32 i = 0; i < run; i++) PATH[at + i] = k[i];
  p += run + 1;
  if (place < KEY_CACHE) {
    if (place < kc_distinct) kc_distinct = place; /* the place changes key */
    key_src = PATH;
    key_id = name_id(run);
    if (run < 15) {
      for (u32 i = 0; i <= run; i++) KC_BYTES[place][i] = k[i];
      KC_LEN[place] = run + 1;
      KC_ID[place] = key_id;
    } else {
      KC_LEN[place] = 0;
    }
  }
  return at + run;
}

static Field *leaf(u32 path_len, i32 kind) {
  if (n_fields == MAX_FIELDS || keys_len + path_len > KEYS_CAP) {
    declined = 1;
    return 0;
  }
  Field *f = &fields[n_fields++];
  const u8 *key = key_id == -2 ? PATH : key_src;
  f->id = key_id == -2 ? name_id(path_len) : key_id;
  f->key = keys_len;
  f->key_len = path_len;
  /* Only a field that may be metadata needs its key kept (for its name). */
  if (f->id < 0 || !(NAME_FLAGS[f->id] & EXCLUDED)) {
    for (u32 i = 0; i < path_len; i++) KEYS[keys_len + i] = key[i];
    keys_len += path_len;
  }
  f->kind = kind;
  f->at = o;
  f->ua = units;
  return f;
}

static void finish(Field *f) {
  f->len = o - f->at;
  f->ub = units;
}

/* Reads the members of an object at p (after its '{'), keys prefixed by PATH[0..prefix). */
static void read_object(u32 prefix, int depth) {
  ws();
  if (p < end && IN[p] == '}') { /* {} flattens to nothing: left to JSON.parse */
    declined = 1;
    return;
  }
  /*
   * The object's keys so far, to refuse a repeated one (JSON.parse keeps the
   * last value, which may flatten to other names). Top-level keys found in
   * the cache at places already known distinct need no comparison.
   */
  u32 kstart[MAX_OBJECT_KEYS], klen[MAX_OBJECT_KEYS], nk = 0;
  int trusted = prefix == 0;
  for (;;) {
    if (p >= end || IN[p] != '"') {
      declined = 1;
      return;
    }
    p++;
    u32 key_at = p, place = key_place;
    u32 path_len = read_key(prefix);
    if (declined) return;
    u32 len = path_len - prefix;
    if (!(trusted && key_hit && place < kc_distinct)) {
      trusted = 0;
      for (u32 j = 0; j < nk; j++) {
        if (klen[j] == len && same_bytes(IN + kstart[j], IN + key_at, len)) {
          declined = 1;
          return;
        }
      }
    }
    if (nk == MAX_OBJECT_KEYS) {
      declined = 1;
      return;
    }
    kstart[nk] = key_at;
    klen[nk++] = len;
    ws();
    if (p >= end || IN[p] != ':') {
      declined = 1;
      return;
    }
    p++;
    ws();
    if (p >= end) {
      declined = 1;
      return;
    }
    u8 c = IN[p];
    if (c == '"') {
      p++;
      Field *f = leaf(path_len, STRING);
      if (!f) return;
      read_string();
      finish(f);
    } else if (c == '{') {
      if (depth == MAX_DEPTH || path_len + 1 > MAX_PATH) {
        declined = 1;
        return;
      }
      p++;
      if (key_id != -2) { /* a cached key: PATH does not hold it yet */
        for (u32 i = 0; i < path_len; i++) PATH[i] = key_src[i];
      }
      PATH[path_len] = '.';
      read_object(path_len + 1, depth + 1);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      u32 s = p;
      if (c == '-') p++;
      u32 d = p;
      while (p < end && IN[p] >= '0' && IN[p] <= '9') p++;
      u32 n = p - d;
      /* Canonical integers only: their text is JSON.stringify's, and a double holds them exactly. */
      if (n == 0 || n > 15 || (IN[d] == '0' && (n > 1 || c == '-')) ||
          (p < end && (IN[p] == '.' || IN[p] == 'e' || IN[p] == 'E'))) {
        declined = 1;
        return;
      }
      Field *f = leaf(path_len, INTEGER);
      if (!f) return;
      put(IN + s, p - s);
      finish(f);
    } else {
      static const u8 words[3][6] = {"true", "false", "null"};
      static const u32 lens[3] = {4, 5, 4};
      static const i32 kinds[3] = {TRUE, FALSE, NUL};
      int w = c == 't' ? 0 : c == 'f' ? 1 : c == 'n' ? 2 : -1;
      if (w < 0 || p + lens[w] > end) {
        declined = 1;
        return;
      }
      for (u32 i = 0; i < lens[w]; i++) {
        if (IN[p + i] != words[w][i]) {
          declined = 1;
          return;
        }
      }
      p += lens[w];
      Field *f = leaf(path_len, kinds[w]);
      if (!f) return;
      finish(f);
    }
    if (declined) return;
    ws();
    if (p >= end) {
      declined = 1;
      return;
    }
    if (IN[p] == ',') {
      p++;
      ws();
      continue;
    }
    if (IN[p] == '}') {
      p++;
      if (prefix == 0) kc_distinct = nk;
      return;
    }
    declined = 1;
    return;
  }
}

/* Metadata names of the document being read. */
#define NAMEBUF_CAP 65536
static u8 NAMEBUF[NAMEBUF_CAP];
static u32 namebuf_len;

/*
 * Appends the metadata name of a key to NAMEBUF (`es_bulk.ts` nameOf): `_`
 * for each UTF-16 unit other than [A-Za-z0-9_], `_` before a leading digit.
 */
static void name_of(const u8 *k, u32 n) {
  if (namebuf_len + 1 + 2 * n > NAMEBUF_CAP) {
    declined = 1;
    return;
  }
  u8 *b = NAMEBUF + namebuf_len;
  u32 j = 0;
  if (n > 0 && k[0] >= '0' && k[0] <= '9') b[j++] = '_';
  for (u32 i = 0; i < n; i++) {
    u8 c = k[i];
    if (c < 0x80) {
      int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      b[j++] = word ? c : '_';
    } else if (c >= 0xc0) {
      b[j++] = '_';
      if (c >= 0xf0) b[j++] = '_';
    }
  }
  namebuf_len += j;
}

/* Writes OUT[at..at+n) as JSON.stringify writes a string's characters. */
static void put_escaped(u32 at, u32 n) {
  static const u8 digits[] = "0123456789abcdef";
  u32 i = 0;
  while (i < n && !declined) {
    u32 run = plain_run(OUT + at + i, n - i);
    if (run > 0) {
      if (!room(run)) return;
      /* OUT grows past at+n, so the run is never overwritten while copied. */
      for (u32 j = 0; j < run; j++) OUT[o + j] = OUT[at + i + j];
      o += run;
      units += units_of(OUT + at + i, run);
      i += run;
      continue;
    }
    u8 c = OUT[at + i++];
    u8 e = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
    if (e) {
      u8 b[2] = {'\\', e};
      put(b, 2);
    } else {
      u8 b[6] = {'\\', 'u', '0', '0', digits[c >> 4], digits[c & 15]};
      put(b, 6);
    }
  }
}

/* Whether the name NAMEBUF[at..namebuf_len) was seen before in this document. */
static int seen_name(u32 at) {
  u32 n = namebuf_len - at, h = 2166136261u;
  for (u32 i = 0; i < n; i++) h = (h ^ NAMEBUF[at + i]) * 16777619u;
  for (u32 s = h % NAME_SLOTS, tries = 0; tries < NAME_SLOTS; s = (s + 1) % NAME_SLOTS, tries++) {
    if (name_slot_gen[s] != gen) {
      name_slot_gen[s] = gen;
      name_slot_at[s] = at;
      name_slot_len[s] = n;
      return 0;
    }
    if (name_slot_len[s] == n) {
      u32 i = 0;
      while (i < n && NAMEBUF[name_slot_at[s] + i] == NAMEBUF[at + i]) i++;
      if (i == n) return 1;
    }
  }
  return 1; /* the table is full: more names than the fast path takes */
}

static u32 digits_at(const u8 *s, u32 n) {
  u32 v = 0;
  for (u32 i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0xffffffff;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* RFC 3339 in UTC from 1970 to 2262 (`time.ts` rfc3339Fast), or -1. */
static i64 rfc3339(const u8 *t, u32 n) {
  if (n < 20 || (t[n - 1] | 0x20) != 'z' || t[4] != '-' || t[7] != '-' || (t[10] | 0x20) != 't' ||
      t[13] != ':' || t[16] != ':') return -1;
  u32 year = digits_at(t, 4), month = digits_at(t + 5, 2), day = digits_at(t + 8, 2);
  u32 hour = digits_at(t + 11, 2), minute = digits_at(t + 14, 2), second = digits_at(t + 17, 2);
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return -1;
  static const u32 mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  if (day > mdays[month - 1] + (month == 2 && leap)) return -1;
  i64 nanos = 0;
  if (n > 20) {
    u32 digits = n - 21;
    if (t[19] != '.' || digits < 1 || digits > 9) return -1;
    u32 f = digits_at(t + 20, digits);
    if (f == 0xffffffff) return -1;
    nanos = f;
    for (u32 i = digits; i < 9; i++) nanos *= 10;
  }
  /* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
  i64 y = (i64)year - (month <= 2);
  i64 era = y / 400, yoe = y - era * 400;
  i64 doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  i64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  i64 days = era * 146097 + doe - 719468;
  i64 seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  if (seconds >= 9223372036LL) return -1; /* past 2262: the caller's range check answers it */
  return seconds * 1000000000LL + nanos;
}

/* The field of each of the mapping's names in the document being read (valid where its kind is not ABSENT). */
static Field *field_of[MAX_NAMES];



/* The slot of a read document's stream field values, -1 when the table is full. */
static i32 stream_slot(const i32 *r) {
  u32 n = 0;
  for (u32 id = 0; id < n_names; id++) {
    if (!(NAME_FLAGS[id] & STREAM)) continue;
    i32 kind = r[HEAD_INTS + 3 * id];
    u32 len = kind == ABSENT || kind == NUL ? 0 : field_of[id]->len;
    if (n + 5 + len > KEY_TMP_CAP) return -1;
    KEY_TMP[n] = (u8)kind;
    KEY_TMP[n + 1] = (u8)len;
    KEY_TMP[n + 2] = (u8)(len >> 8);
    KEY_TMP[n + 3] = (u8)(len >> 16);
    KEY_TMP[n + 4] = (u8)(len >> 24);
    n += 5;
    if (len) {
      __builtin_memcpy(KEY_TMP + n, OUT + field_of[id]->at, len);
      n += len;
    }
  }
  if (last_slot >= 0 && stream_slot_len[last_slot] == n && same_bytes(SLOT_KEYS + stream_slot_at[last_slot], KEY_TMP, n)) {
    return last_slot;
  }
  u32 h = 2166136261u;
  for (u32 i = 0; i < n; i++) h = (h ^ KEY_TMP[i]) * 16777619u;
  for (u32 t = h % (SLOTS * 2), tries = 0; tries < SLOTS * 2; t = (t + 1) % (SLOTS * 2), tries++) {
    i32 k = slot_table[t];
    if (k < 0) {
      if (n_slots == SLOTS || slot_keys_len + n > SLOT_KEYS_CAP) return -1;
      k = (i32)n_slots++;
      slot_table[t] = k;
      stream_slot_at[k] = slot_keys_len;
      stream_slot_len[k] = n;
      stream_slot_hash[k] = h;
      for (u32 i = 0; i < n; i++) SLOT_KEYS[slot_keys_len + i] = KEY_TMP[i];
      slot_keys_len += n;
      return last_slot = k;
    }
    if (stream_slot_hash[k] == h && stream_slot_len[k] == n && same_bytes(SLOT_KEYS + stream_slot_at[k], KEY_TMP, n)) return last_slot = k;
  }
  return -1;
}

/*
 * Keeps in OUT, from the document's start (o0, units0), only what the caller
 * reads of it: the message, the metadata JSON (at m_o, m_units), the time
 * when it was not read here, and the stream field values until the caller
 * has labelled the document's slot. The values left out are marked DROPPED.
 * The lines are sliced from the page strings and keep them in memory until
 * they are flushed: the time, the labels and the raw values of metadata
 * fields (written again in its JSON) would only make them larger.
 */
static void keep_read(i32 *r, i32 msg, u32 o0, u32 units0, u32 m_o, u32 m_units) {
  u32 dst = o0, du = units0;
  int labelled = r[7] >= 0 && SLOT_LABELLED[r[7]];
  for (u32 i = 0; i < n_fields; i++) {
    Field *f = &fields[i];
    if (f->id < 0) continue;
    i32 *v = r + HEAD_INTS + 3 * f->id;
    if (v[0] != STRING && v[0] != INTEGER) continue;
    if (f->id != msg && !(f->id == time_id && !r[6]) && (labelled || !(NAME_FLAGS[f->id] & STREAM))) {
      v[0] = DROPPED;
      continue;
    }
    __builtin_memmove(OUT + dst, OUT + f->at, f->len);
    v[1] = (i32)du;
    v[2] = (i32)(du + f->ub - f->ua);
    dst += f->len;
    du += f->ub - f->ua;
  }
  u32 m_len = r[3] > r[2] ? o - m_o : 0;
  __builtin_memmove(OUT + dst, OUT + m_o, m_len);
  r[2] = (i32)du;
  r[3] = (i32)(du + (m_len ? units - m_units : 0));
  o = dst + m_len;
  units = (u32)r[3];
}

/*
 * Reads the document line starting at IN[start] into record r (its end in
 * doc_end unless declined): [0] status, [1] the
 * chosen message name (-1: none), [2..3] metadata JSON in UTF-16 units
 * (empty: none), [4..5] the time in ns when [6] is 1, [7] the stream slot
 * (-1: none), then from HEAD_INTS per name: kind and value in UTF-16 units.
 * Returns the status.
 */
static i32 read_doc(i32 *r, u32 start) {
  u32 o0 = o, units0 = units;
  p = start;
  end = chunk_len;
  declined = 0;
  n_fields = 0;
  keys_len = 0;
  key_place = 0;
  for (u32 i = 0; i < n_names; i++) r[HEAD_INTS + 3 * i] = ABSENT;
  ws();
  if (p < end && IN[p] == '{') {
    p++;
    read_object(0, 0);
    ws();
    if (p != end && IN[p] != '\n') declined = 1;
    doc_end = p;
  } else {
    declined = 1;
  }
  /* Each of the mapping's names once (JSON.parse keeps the last of duplicates): the chosen message field. */
  i32 msg = -1, msg_rank = 0x7fffffff;
  for (u32 i = 0; i < n_fields && !declined; i++) {
    Field *f = &fields[i];
    if (f->id < 0) continue;
    i32 *slot = r + HEAD_INTS + 3 * f->id;
    if (slot[0] != ABSENT) {
      declined = 1;
      break;
    }
    slot[0] = f->kind;
    slot[1] = (i32)f->ua;
    slot[2] = (i32)f->ub;
    field_of[f->id] = f;
    i32 rank = NAME_FLAGS[f->id] >> 8;
    if (rank > 0 && f->kind != NUL && rank < msg_rank) msg = f->id, msg_rank = rank;
  }
  /* The other fields, as JSON.stringify writes {name: text(value)}; null ones are left out. */
  u32 m_o = o, m_units = units, emitted = 0;
  gen++;
  namebuf_len = 0;
  for (u32 i = 0; i < n_fields && !declined; i++) {
    Field *f = &fields[i];
    if (f->id >= 0 && (f->id == msg || (NAME_FLAGS[f->id] & EXCLUDED))) continue;
    u32 name_at = namebuf_len;
    name_of(KEYS + f->key, f->key_len);
    /* Two fields of one name: JSON.parse and the mapping keep the last value at the first place. */
    if (declined || seen_name(name_at)) {
      declined = 1;
      break;
    }
    if (f->kind == NUL) continue;
    put_byte(emitted ? ',' : '{');
    put_byte('"');
    put(NAMEBUF + name_at, namebuf_len - name_at);
    put_byte('"');
    put_byte(':');
    put_byte('"');
    if (f->kind == TRUE) put((const u8 *)"true", 4);
    else if (f->kind == FALSE) put((const u8 *)"false", 5);
    else put_escaped(f->at, f->len);
    put_byte('"');
    emitted++;
  }
  if (emitted && !declined) put_byte('}');
  if (declined) {
    o = o0;
    units = units0;
    r[0] = DECLINED;
    return DECLINED;
  }
  r[0] = OK;
  r[1] = msg;
  r[2] = (i32)m_units;
  r[3] = (i32)(emitted ? units : m_units);
  r[6] = 0;
  if (time_id >= 0 && r[HEAD_INTS + 3 * time_id] == STRING) {
    Field *t = 0;
    for (u32 i = 0; i < n_fields; i++) if (fields[i].id == time_id) t = &fields[i];
    i64 ns = rfc3339(OUT + t->at, t->len);
    if (ns >= 0) {
      *(i64 *)(r + 4) = ns;
      r[6] = 1;
    }
  }
  r[7] = stream_slot(r);
  keep_read(r, msg, o0, units0, m_o, m_units);
  return OK;
}

/*
 * The lines of a chunk of a bulk body: IN[0..chunk_len), cut at a line end
 * unless it is the body's last. scan() reads action and document lines,
 * a record for each action into REC (from [8]: the action, the document's
 * bytes, whether it is stored), and returns to the caller when it needs it:
 */
#define DONE 0          /* every complete pair read; `consumed` bytes are done with */
#define ASK_ACTION 1    /* the line ask_start..ask_end at an action's place is new: set_action or skip_line */
#define ABORT 2         /* a line that may be blank by JavaScript's trim: leave the body to JSON.parse */
#define NO_DOCUMENT 3   /* the body ends after an action that needs a document line */
#define FULL 4          /* REC or OUT is full: take the records, then load again from `consumed` */
#define LIMIT 5         /* one action more than the caller allows (load's `allowed`) */

/* Kinds of a record ([11]). */
#define STORED 0        /* a document to store: [0..7] as read_doc writes them */
#define NOT_STORED 1    /* an action stored nothing (delete, update) */

#define ACT_CAP 1024
static u8 ACT[ACT_CAP];
static u32 act_len;
static i32 act_id = -1, act_takes_line, act_stores, accept_next;
static u32 pos, line_no, n_recs, consumed, ask_start, ask_end, allowed;
static int last_chunk;

__attribute__((export_name("line_no"))) u32 line_no_at(void) { return line_no; }
__attribute__((export_name("action_id"))) i32 action_id(void) { return act_id; }
__attribute__((export_name("slot_generation"))) u32 slot_generation_now(void) { return slot_generation; }
__attribute__((export_name("slot_labelled_ptr"))) u8 *slot_labelled_ptr(void) { return SLOT_LABELLED; }
__attribute__((export_name("records"))) u32 records(void) { return n_recs; }
__attribute__((export_name("consumed"))) u32 consumed_bytes(void) { return consumed; }
__attribute__((export_name("ask_start"))) u32 ask_start_at(void) { return ask_start; }
__attribute__((export_name("ask_end"))) u32 ask_end_at(void) { return ask_end; }

/*
 * Starts a chunk of `len` bytes in IN whose first line is line `first_line`
 * of the body (`last`: the body ends with it), in which at most `actions`
 * actions may be. Returns whether every byte is ASCII (else the caller
 * checks the chunk is UTF-8).
 */
__attribute__((export_name("load"))) i32 load(u32 len, i32 last, u32 first_line, u32 actions) {
  begin();
  allowed = actions;
  if (n_slots == SLOTS || slot_keys_len > SLOT_KEYS_CAP / 2) reset_slots();
  chunk_len = len;
  last_chunk = last;
  pos = consumed = n_recs = 0;
  line_no = first_line;
  act_len = 0;
  act_id = -1;
  accept_next = 0;
  v128_t any = wasm_i8x16_splat(0);
  u32 i = 0;
  for (; i + 16 <= len; i += 16) any = wasm_v128_or(any, wasm_v128_load(IN + i));
  u32 high = wasm_i8x16_bitmask(any);
  for (; i < len; i++) high |= IN[i] & 0x80;
  return high == 0;
}

/* The action of the line ask_start..ask_end: `takes_line`, the next non-blank line is its document; `stores`, it is stored. */
__attribute__((export_name("set_action"))) void set_action(i32 id, i32 takes_line, i32 stores) {
  u32 n = ask_end - ask_start;
  act_id = id;
  act_takes_line = takes_line;
  act_stores = stores;
  accept_next = 1;
  if (n <= ACT_CAP) {
    for (u32 i = 0; i < n; i++) ACT[i] = IN[ask_start + i];
    act_len = n;
  } else {
    act_len = 0;
  }
}

/* The line ask_start..ask_end is blank after all. */
__attribute__((export_name("skip_line"))) void skip_line(void) {
  pos = ask_end + 1;
  line_no++;
}

/* The end of the line starting at s: its '\n', or chunk_len. */
static u32 line_end(u32 s) {
  const v128_t nl = wasm_i8x16_splat('\n');
  u32 i = s;
  while (i < chunk_len) {
    u32 bits = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(IN + i), nl));
    if (bits) {
      u32 at = i + (u32)__builtin_ctz(bits);
      return at < chunk_len ? at : chunk_len;
    }
    i += 16;
  }
  return chunk_len;
}

/* Line IN[s..e): 0 blank (JSON and JavaScript white space only), 1 not blank, 2 unknown (a byte past ASCII first). */
static int line_kind(u32 s, u32 e) {
  for (u32 i = s; i < e; i++) {
    u8 c = IN[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) continue;
    return c >= 0x80 ? 2 : 1;
  }
  return 0;
}

__attribute__((export_name("scan"))) i32 scan(void) {
  for (;;) {
    u32 s = pos;
    if (s >= chunk_len) {
      consumed = chunk_len;
      return DONE;
    }
    u32 e = line_end(s);
    if (e == chunk_len && !last_chunk) {
      consumed = s;
      return DONE;
    }
    int kind = line_kind(s, e);
    if (kind == 0) {
      pos = e + 1;
      line_no++;
      continue;
    }
    if (!accept_next && !(act_len == e - s && act_len > 0 && same_bytes(IN + s, ACT, act_len))) {
      ask_start = s;
      ask_end = e;
      return ASK_ACTION;
    }
    accept_next = 0;
    if (n_recs == allowed) return LIMIT;
    if (n_recs == MAX_DOCS) {
      consumed = s;
      return FULL;
    }
    u32 q = e + 1, ln = line_no + 1, de = q;
    i32 *r = REC + n_recs * REC_INTS;
    r[8] = act_id;
    r[11] = NOT_STORED;
    if (act_takes_line) {
      /* The document: the next line that is not blank. */
      u32 ls = q; /* the line's start */
      for (;;) {
        while (q < chunk_len && (IN[q] == ' ' || (IN[q] >= '\t' && IN[q] <= '\r' && IN[q] != '\n'))) q++;
        if (q >= chunk_len) {
          if (last_chunk) return NO_DOCUMENT;
          consumed = s;
          return DONE;
        }
        if (IN[q] == '\n') {
          ls = ++q;
          ln++;
          continue;
        }
        if (IN[q] >= 0x80) return ABORT;
        break;
      }
      q = ls;
      /* Room in OUT for the rest of the chunk read twice over (values, then metadata). */
      if (o + 2 * (chunk_len - q) + 64 > OUT_CAP) {
        consumed = s;
        return FULL;
      }
      if (act_stores) {
        r[11] = STORED;
        if (o - page_at[n_pages - 1] >= PAGE_BYTES) {
          page_at[n_pages++] = o;
          units = 0;
        }
        r[12] = (i32)(n_pages - 1);
        de = read_doc(r, q) == OK ? doc_end : line_end(q);
      } else {
        de = line_end(q);
      }
    }
    r[9] = (i32)q;
    r[10] = (i32)de;
    n_recs++;
    if (act_takes_line) {
      pos = de + 1;
      line_no = ln + 1;
    } else {
      pos = e + 1;
      line_no++;
    }
  }
}
