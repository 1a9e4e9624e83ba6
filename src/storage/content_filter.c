/*
 * The terms of a block's lines for its content filter (see content_filter.ts
 * for what a term is): tokens of 8 to 31 word bytes hashed whole, longer ones
 * by winnowing their 8-byte grams, each distinct hash once; and the Bloom
 * filter of a set of terms. Built into
 * content_filter.wasm by `deno task build:wasm` (clang --target=wasm32
 * -msimd128 -mbulk-memory): compaction collects the terms of every block it
 * writes in one call, several times faster than the same loops in JS.
 *
 * The caller lays out in this module's memory the text (lines and metadata
 * values back to back) and 16 bytes more (gram hashes read 8 at a time past
 * a token's end), where each line ends (u32s), a table of a power of two u32s
 * for the distinct hashes, room for as many u32s of output, and scratch for
 * the gram hashes of the longest line.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;

#define WORD_MIN 8
#define LONG_TOKEN 32
#define GRAM 8
#define WINDOW (LONG_TOKEN - GRAM + 1)

#define WORD_SEED 0x811c9dc5u
#define GRAM_SEED 0x2c1b3c6du

extern u8 __heap_base;

__attribute__((export_name("heap_base"))) i32 heap_base(void) { return (i32)&__heap_base; }

/* [0-9A-Za-z_] and every byte of a multi-byte UTF-8 character. */
static const u8 WORD[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['_'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,
    ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,
    ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    [0x80 ... 0xff] = 1,
};

static inline u32 fmix(u32 h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

static inline u32 hash_bytes(const u8 *bytes, i32 len, u32 seed) {
  u32 h = seed;
  for (i32 i = 0; i < len; i++) h = (h ^ bytes[i]) * 0x01000193u;
  return fmix(h);
}

/* The distinct hashes: an open-addressing table (0 marks a free slot, so a
 * hash of 0 is tracked apart) and the output, in first-seen order. */
static u32 *table;
static u32 mask;
static u32 *out;
static i32 count;
static i32 capacity;
static i32 has_zero;

/* Adds `h`; 0 once the output is full (the caller retries with more room). */
static i32 add(u32 h) {
  u32 at = (h * 0x9e3779b1u) & mask;
  if (h == 0) {
    if (has_zero) return 1;
  } else {
    for (; table[at] != 0; at = (at + 1) & mask) {
      if (table[at] == h) return 1;
    }
  }
  if (count >= capacity) return 0;
  if (h == 0) has_zero = 1;
  else table[at] = h;
  out[count++] = h;
  return 1;
}

static inline v128_t fmix4(v128_t h) {
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat((i32)0x85ebca6bu));
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 13));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat((i32)0xc2b2ae35u));
  return wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
}

/*
 * The hashes of the grams starting at `token[0..count)` (count a multiple
 * of 8, reading up to 8 + GRAM - 1 bytes past the last gram: the caller
 * leaves room), eight at a time: lane j of the two vectors follows the
 * gram at j, byte by byte, as hash_bytes does one.
 */
static void gram_hashes(const u8 *token, i32 count, u32 *out) {
  const v128_t prime = wasm_i32x4_splat(0x01000193);
  for (i32 g = 0; g < count; g += 8) {
    v128_t low = wasm_i32x4_splat((i32)GRAM_SEED);
    v128_t high = low;
    for (i32 k = 0; k < GRAM; k++) {
      v128_t bytes = wasm_u16x8_load8x8(token + g + k);
      low = wasm_i32x4_mul(wasm_v128_xor(low, wasm_u32x4_extend_low_u16x8(bytes)), prime);
      high = wasm_i32x4_mul(wasm_v128_xor(high, wasm_u32x4_extend_high_u16x8(bytes)), prime);
    }
    wasm_v128_store(out + g, fmix4(low));
    wasm_v128_store(out + g + 4, fmix4(high));
  }
}

static inline u32 min_u32(u32 a, u32 b) { return a < b ? a : b; }

/* Room for the gram hashes of the longest token and their prefix and suffix
 * minima: three arrays of `scratch_grams` u32s. */
static u32 *scratch;
static i32 scratch_grams;

/*
 * Adds the minimum gram hash of every window of WINDOW grams of the token,
 * the set content_filter.ts's addWinnowed adds: each window's minimum is the
 * lesser of the suffix minimum of its start and the prefix minimum of its
 * end within blocks of WINDOW grams (van Herk), three passes without branches
 * to mispredict.
 */
static i32 add_winnowed(const u8 *token, i32 len) {
  i32 grams = len - GRAM + 1;
  u32 *hashes = scratch;
  u32 *prefix = scratch + scratch_grams;
  u32 *suffix = prefix + scratch_grams;
  gram_hashes(token, (grams + 7) & ~7, hashes);
  for (i32 i = 0, k = 0; i < grams; i++, k = k == WINDOW - 1 ? 0 : k + 1) {
    prefix[i] = k == 0 ? hashes[i] : min_u32(prefix[i - 1], hashes[i]);
  }
  suffix[grams - 1] = hashes[grams - 1];
  for (i32 i = grams - 2, k = (grams - 2) % WINDOW; i >= 0; i--, k = k == 0 ? WINDOW - 1 : k - 1) {
    suffix[i] = k == WINDOW - 1 ? hashes[i] : min_u32(suffix[i + 1], hashes[i]);
  }
  i32 has_last = 0;
  u32 last = 0;
  for (i32 w = 0; w + WINDOW <= grams; w++) {
    u32 min = min_u32(suffix[w], prefix[w + WINDOW - 1]);
    if (!has_last || min != last) {
      has_last = 1;
      last = min;
      if (!add(min)) return 0;
    }
  }
  return 1;
}

static i32 add_token(const u8 *token, i32 len) {
  if (len >= LONG_TOKEN) return add_winnowed(token, len);
  if (len >= WORD_MIN) return add(hash_bytes(token, len, WORD_SEED));
  return 1;
}

/*
 * Writes the distinct terms of lines ending at `ends[0..lines)` of `text` to
 * `output` (room for `room` u32s), with `slots` (a power of two, at least
 * 2 * room) u32s of table at `hash_table` and 3 * (longest line + 8) u32s of
 * scratch at `grams`. Returns how many, or -1 when they do not fit.
 */
__attribute__((export_name("block_terms"))) i32 block_terms(const u8 *text, const u32 *ends,
                                                             i32 lines, u32 *hash_table, i32 slots,
                                                             u32 *output, i32 room, u32 *grams,
                                                             i32 longest) {
  scratch = grams;
  scratch_grams = longest + 8;
  table = hash_table;
  mask = (u32)slots - 1;
  out = output;
  capacity = room;
  count = 0;
  has_zero = 0;
  __builtin_memset(hash_table, 0, (unsigned long)slots * sizeof(u32));
  u32 start = 0;
  for (i32 l = 0; l < lines; l++) {
    u32 end = ends[l];
    i32 token = -1;
    for (u32 i = start; i < end; i++) {
      if (WORD[text[i]]) {
        if (token < 0) token = (i32)i;
      } else if (token >= 0) {
        if (!add_token(text + token, (i32)i - token)) return -1;
        token = -1;
      }
    }
    if (token >= 0 && !add_token(text + token, (i32)end - token)) return -1;
    start = end;
  }
  return count;
}

/*
 * Sets the `probes` bits of each of `terms[0..n)` in the Bloom filter of
 * `bits` bits at `filter` (zeroed by the caller), as content_filter.ts's
 * filterHasAll probes them: probe i is (h + i * step) mod bits.
 */
__attribute__((export_name("bloom"))) void bloom(const u32 *terms, i32 n, u32 bits, i32 probes,
                                                 u8 *filter) {
  for (i32 t = 0; t < n; t++) {
    u32 h = terms[t];
    u32 step = (fmix(h ^ 0x9e3779b9u) | 1u) % bits;
    u32 at = h % bits;
    for (i32 i = 0; i < probes; i++) {
      filter[at >> 3] |= (u8)(1u << (at & 7));
      at += step;
      if (at >= bits) at -= bits;
    }
  }
}

/*
 * Binary fuse filter (see fuse_filter.ts, whose fuseHasAll reads it with
 * these hashes): each of the distinct `terms[0..n)` maps to a slot in each of
 * three consecutive segments of 2^segment_bits slots, and the XOR of their
 * fingerprints is its own. Slots are peeled (a slot one term maps to is that
 * term's), then fingerprints of `bits` bits assigned in reverse, and written
 * packed at `out` (zeroed by the caller). `scratch` holds 10 bytes a slot and
 * 5 a term. Returns 1, or 0 when the terms do not peel with this seed (one
 * given twice, or 255 or more in one slot).
 */
static inline void fuse_slots(u32 term, u32 seed, u32 segment_bits, u32 segment_count,
                              u32 slots[3]) {
  u32 mask = (1u << segment_bits) - 1u;
  u32 segment = (u32)(((unsigned long long)fmix(term ^ seed) * segment_count) >> 32);
  u32 o0 = fmix(term ^ (seed + 0x9e3779b9u)) & mask;
  u32 x = fmix(term ^ (seed + 0x3c6ef372u));
  u32 o1 = o0 ^ (x & mask);
  u32 o2 = o1 ^ ((x >> 14) & mask);
  slots[0] = (segment << segment_bits) + o0;
  slots[1] = ((segment + 1u) << segment_bits) + o1;
  slots[2] = ((segment + 2u) << segment_bits) + o2;
}

__attribute__((export_name("fuse"))) i32 fuse(const u32 *terms, u32 n, u32 seed, u32 segment_bits,
                                              u32 segment_count, u32 bits, u8 *scratch, u8 *out) {
  u32 slots = (segment_count + 2u) << segment_bits;
  u32 aligned = (slots + 3u) & ~3u;
  u8 *counts = scratch;
  u8 *values = counts + aligned;
  u32 *xors = (u32 *)(values + aligned);
  u32 *queue = xors + slots;
  u32 *peeled = queue + slots;
  u8 *peeled_at = (u8 *)(peeled + n);
  __builtin_memset(counts, 0, slots);
  __builtin_memset(values, 0, slots);
  __builtin_memset(xors, 0, (unsigned long)slots * 4u);
  u32 at[3];
  for (u32 i = 0; i < n; i++) {
    fuse_slots(terms[i], seed, segment_bits, segment_count, at);
    for (i32 j = 0; j < 3; j++) {
      /* 255 terms in one slot (crafted terms): another seed. */
      if (counts[at[j]] == 255) return 0;
      counts[at[j]]++;
      xors[at[j]] ^= terms[i];
    }
  }
  u32 queued = 0;
  for (u32 s = 0; s < slots; s++)
    if (counts[s] == 1) queue[queued++] = s;
  u32 count = 0;
  while (queued > 0) {
    u32 s = queue[--queued];
    if (counts[s] != 1) continue;
    u32 term = xors[s];
    fuse_slots(term, seed, segment_bits, segment_count, at);
    /* Only a term given twice or more makes a slot's XOR another term's. */
    if (count == n || (at[0] != s && at[1] != s && at[2] != s)) return 0;
    peeled[count] = term;
    for (i32 j = 0; j < 3; j++) {
      if (at[j] == s) peeled_at[count] = (u8)j;
      counts[at[j]]--;
      xors[at[j]] ^= term;
      if (counts[at[j]] == 1) queue[queued++] = at[j];
    }
    count++;
  }
  if (count < n) return 0;
  u32 fp_mask = (1u << bits) - 1u;
  for (u32 p = n; p-- > 0;) {
    u32 term = peeled[p];
    fuse_slots(term, seed, segment_bits, segment_count, at);
    u32 j = peeled_at[p];
    values[at[j]] = (u8)((fmix(term ^ (seed ^ 0x5bd1e995u)) & fp_mask) ^
                         values[at[(j + 1u) % 3u]] ^ values[at[(j + 2u) % 3u]]);
  }
  for (u32 s = 0, bit = 0; s < slots; s++, bit += bits) {
    u32 v = (u32)values[s] << (bit & 7u);
    out[bit >> 3] |= (u8)v;
    out[(bit >> 3) + 1u] |= (u8)(v >> 8);
  }
  return 1;
}
