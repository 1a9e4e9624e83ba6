/*
 * Which lines of a block hold a substring: the search a line filter
 * (`|= "timeout"`) runs over every block it reads, on the block's bytes, 16
 * positions at a time (a position is a candidate when the needle's first and
 * last bytes are there; its middle is then compared). Built into
 * line_search.wasm by `deno task build:wasm` (clang --target=wasm32
 * -msimd128 -mbulk-memory).
 *
 * The caller lays out in this module's memory the lines' bytes and 16 bytes
 * more plus the needle's length (read past the end, never matched there),
 * where each line starts and ends (u32s, offsets into the bytes), the needle,
 * and room for a u32 a line of output.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;

extern u8 __heap_base;

__attribute__((export_name("heap_base"))) i32 heap_base(void) { return (i32)&__heap_base; }

/* Whether `needle[1..len-1)` is at `at + 1`: the first and last bytes matched already. */
static i32 middle_matches(const u8 *at, const u8 *needle, i32 len) {
  for (i32 k = 1; k < len - 1; k++) {
    if (at[k] != needle[k]) return 0;
  }
  return 1;
}

/*
 * The first position from `from` where `needle` (of `len` ≥ 1 bytes) starts
 * within `text[0..text_len)`, or -1.
 */
static i32 find(const u8 *text, i32 text_len, i32 from, const u8 *needle, i32 len) {
  const v128_t first = wasm_i8x16_splat((char)needle[0]);
  const v128_t last = wasm_i8x16_splat((char)needle[len - 1]);
  const i32 end = text_len - len; /* the last position a match can start at */
  for (i32 i = from; i <= end; i += 16) {
    const v128_t a = wasm_v128_load(text + i);
    const v128_t b = wasm_v128_load(text + i + len - 1);
    u32 hits = wasm_i8x16_bitmask(wasm_v128_and(wasm_i8x16_eq(a, first), wasm_i8x16_eq(b, last)));
    for (; hits; hits &= hits - 1) {
      const i32 at = i + __builtin_ctz(hits);
      if (at > end) return -1;
      if (middle_matches(text + at, needle, len)) return at;
    }
  }
  return -1;
}

/*
 * The indexes of the lines `[0, count)` (line `i` is
 * `text[starts[i]..ends[i])`, ascending and not overlapping) that hold
 * `needle`, written to `out`, ascending; how many.
 */
__attribute__((export_name("lines_with"))) i32 lines_with(const u8 *text, i32 text_len,
                                                          const u32 *starts, const u32 *ends,
                                                          i32 count, const u8 *needle, i32 len,
                                                          u32 *out) {
  i32 found = 0;
  i32 line = 0;
  i32 from = count > 0 ? (i32)starts[0] : 0;
  while (line < count) {
    const i32 at = find(text, text_len, from, needle, len);
    if (at < 0) break;
    while (line < count && (i32)ends[line] < at + len) line++;
    if (line == count) break;
    if (at >= (i32)starts[line]) {
      out[found++] = (u32)line;
      from = (i32)ends[line];
      line++;
    } else {
      from = at + 1; /* across a line's end: no match of either line */
    }
  }
  return found;
}
