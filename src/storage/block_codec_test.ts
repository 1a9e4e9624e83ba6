import assert from "node:assert/strict";
import { BlockBuilder, decodeBlock, decodeTimes } from "./block_codec.ts";
import { termsOf } from "./content_filter.ts";
import { Rng } from "../../testing/prng.ts";

const dec = new TextDecoder();

Deno.test("a block round-trips timestamps, lines and metadata", () => {
  const b = new BlockBuilder();
  b.addString(1_700_000_000_000_000_000n, "first line");
  b.addString(1_700_000_000_000_000_000n, "second — ünïcode", '{"trace":"abc"}');
  b.add(9_000_000_000_000_000_000n, new TextEncoder().encode("a far future line"));
  const { raw, minTs, maxTs, count } = b.finish();
  assert.equal(count, 3);
  assert.equal(minTs, 1_700_000_000_000_000_000n);
  assert.equal(maxTs, 9_000_000_000_000_000_000n);
  const block = decodeBlock(raw);
  assert.deepEqual([...block.ts], [minTs, minTs, maxTs]);
  const lines = [...block.ends].map((end, i) =>
    dec.decode(block.lines.subarray(block.starts[i], end))
  );
  assert.deepEqual(lines, ["first line", "second — ünïcode", "a far future line"]);
  assert.equal(block.ascii, false);
  assert.deepEqual([...block.metadataEnds!], [0, 15, 15]);
  assert.equal(dec.decode(block.metadata!), '{"trace":"abc"}');
});

Deno.test("metadata given as text makes the block and terms that its bytes make", () => {
  const enc = new TextEncoder();
  const rows: [bigint, string, string | undefined][] = [
    [1n, "GET /a", '{"trace_id":"4bf92f3577b34da6"}'],
    [2n, "GET /b", undefined],
    [3n, "POST /c", ""],
    [4n, "PUT /d", '{"user":"zoë","note":"\u2603 ☃"}'],
  ];
  const asText = new BlockBuilder();
  const asBytes = new BlockBuilder();
  for (const [ts, line, meta] of rows) {
    const bytes = enc.encode(line);
    asText.addSlice(ts, bytes, 0, bytes.length, meta);
    asBytes.add(ts, bytes, meta === undefined ? undefined : enc.encode(meta));
  }
  const text = asText.finish();
  const bytes = asBytes.finish();
  assert.deepEqual(text.raw, bytes.raw);
  assert.deepEqual([...text.terms].sort(), [...bytes.terms].sort());
  // The metadata's values are terms of the block, as its lines' words are.
  for (const needle of [`"4bf92f3577b34da6"`, `"trace_id"`]) {
    assert.ok(termsOf(needle).length > 0, needle);
    assert.ok(termsOf(needle).every((t) => text.terms.includes(t)), needle);
  }
  const block = decodeBlock(text.raw);
  assert.deepEqual([...block.metadataEnds!], [31, 31, 31, 31 + enc.encode(rows[3][2]!).length]);
});

Deno.test("a block without metadata has no metadata column and is flagged ASCII", () => {
  const b = new BlockBuilder();
  b.addString(5n, "x");
  const { raw } = b.finish();
  const block = decodeBlock(raw);
  assert.equal(block.metadata, undefined);
  assert.equal(block.ascii, true);
  assert.equal(b.count, 0);
  assert.deepEqual(decodeTimes(raw), { ts: new BigInt64Array([5n]) });
});

Deno.test("a truncated block throws a RangeError", () => {
  const b = new BlockBuilder();
  b.addString(5n, "hello world");
  const { raw } = b.finish();
  assert.throws(() => decodeBlock(raw.subarray(0, raw.length - 3)), RangeError);
});

Deno.test("lines holding newlines fall back to a length column", () => {
  const b = new BlockBuilder();
  b.addString(1n, "stack trace:\n  at main()");
  b.addString(2n, "");
  b.addString(3n, "next");
  const block = decodeBlock(b.finish().raw);
  const lines = [...block.ends].map((end, i) =>
    dec.decode(block.lines.subarray(block.starts[i], end))
  );
  assert.deepEqual(lines, ["stack trace:\n  at main()", "", "next"]);
  b.addString(1n, "");
  b.addString(2n, "plain");
  const plain = decodeBlock(b.finish().raw);
  assert.deepEqual([...plain.starts], [0, 1]);
  assert.deepEqual([...plain.ends], [0, 6]);
});

Deno.test("Rice-coded timestamps decode exactly across 32-bit words, signs and the largest gaps", () => {
  const rice = 2n ** 53n - 1n; // the largest gap a Rice code holds
  const cases: bigint[][] = [
    [-(2n ** 40n), -(2n ** 32n) - 1n, -5n, 0n, 3n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 33n + 5n],
    [0n, rice, 2n * rice, 2n * rice + 2n ** 32n - 1n, 3n * rice],
    [
      9_223_372_036_854_775_807n - 2n * rice,
      9_223_372_036_854_775_807n - rice,
      9_223_372_036_854_775_807n,
    ],
  ];
  // Random gaps of every magnitude from random starts, summed here with BigInt.
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let c = 0; c < 20; c++) {
    let t = BigInt(Math.floor((random() - 0.5) * 2 ** 53)) * 1024n;
    const ts = [t];
    for (let i = 0; i < 500; i++) {
      ts.push(t += BigInt(Math.floor(random() * 2 ** Math.floor(random() * 53))));
    }
    cases.push(ts);
  }
  for (const ts of cases) {
    const b = new BlockBuilder();
    for (const t of ts) b.addString(t, "x");
    const raw = b.finish().raw;
    assert.ok(raw[0] & 8, "Rice-coded"); // RICE_DELTAS
    assert.deepEqual([...decodeBlock(raw).ts], ts);
  }
});

Deno.test("timestamps round-trip across gaps of nanoseconds to centuries", () => {
  // Rice-coded deltas (with an escaped hour among milliseconds), and a block
  // whose gap exceeds a Rice code (2^53 ns, ~104 days) and keeps varints.
  const base = 1_796_025_600_000_000_000n;
  const cases = [
    [base, base + 1n, base + 1_000_000n, base + 3_601_000_000_000n, base + 3_601_002_000_000n],
    [base, base + 2n ** 53n + 7n, base + 2n ** 53n + 9n],
    [-5n, 0n, 9_223_372_036_854_775_807n],
  ];
  for (const ts of cases) {
    const b = new BlockBuilder();
    for (const t of ts) b.addString(t, `line at ${t}`);
    assert.deepEqual([...decodeBlock(b.finish().raw).ts], ts);
  }
});

/** The lines, metadata and times of a decoded block, as strings. */
function contents(raw: Uint8Array) {
  const block = decodeBlock(raw);
  return [...block.ts].map((ts, i) => {
    const metaStart = i === 0 ? 0 : block.metadataEnds?.[i - 1] ?? 0;
    return [
      ts,
      dec.decode(block.lines.subarray(block.starts[i], block.ends[i])),
      block.metadata ? dec.decode(block.metadata.subarray(metaStart, block.metadataEnds![i])) : "",
    ];
  });
}

Deno.test("coded lines decode to the lines a plain block holds, newlines and metadata included", () => {
  // A seeded generator: the same lines on every run.
  const rng = Object.assign(new Rng(), { state: 99 });
  const next = (n: number) => rng.below(n);
  const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[next(16)]).join("");
  /** The line's own time, as a JSON logger writes it. */
  const iso = (ts: bigint) => new Date(Number(ts / 1_000_000n)).toISOString();
  const pieces = [
    (ts: bigint) => `"ts":"${iso(ts)}" `,
    () => `trace_id=${hex(32)} `,
    () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    () => "GET /api/users ",
    () => "\u0001",
    () => "é",
    () => hex(15),
    () => "\n", // a line holding a newline: the block keeps a length column
  ];
  for (const newlines of [false, true]) {
    const rows: [bigint, string, string][] = [];
    for (let i = 0; i < 500; i++) {
      let line = "";
      const ts = 1_764_600_000_000_000_000n + BigInt(i * 1_000_000 + next(1_000_000));
      for (let p = next(8); p >= 0; p--) line += pieces[next(newlines ? 8 : 7)](ts);
      rows.push([ts, line, i % 3 === 0 ? `{"span":"${hex(16)}"}` : ""]);
    }
    const plain = new BlockBuilder();
    const coding = new BlockBuilder({ codeLines: true });
    for (const [ts, line, meta] of rows) {
      plain.addString(ts, line, meta === "" ? undefined : meta);
      coding.addString(ts, line, meta === "" ? undefined : meta);
    }
    const uncoded = plain.finish();
    const coded = coding.finish();
    assert.equal(coded.raw[0] & 16, 16, "the block is coded");
    assert.equal(uncoded.raw[0] & 16, 0);
    assert.deepEqual(contents(coded.raw), rows);
    assert.deepEqual(contents(uncoded.raw), rows);
    // A count reads the same times and metadata without the lines, coded or not.
    for (const raw of [coded.raw, uncoded.raw]) {
      const { ts, metadata, metadataEnds } = decodeBlock(raw);
      assert.deepEqual(decodeTimes(raw), { ts, metadata, metadataEnds });
    }
    assert.deepEqual([...coded.terms].sort(), [...uncoded.terms].sort());
    // Times are coded in newline-terminated lines only.
    const timesInText = rows.filter(([ts]) => dec.decode(coded.raw).includes(iso(ts))).length;
    if (newlines) assert.ok(timesInText > 100, `${timesInText} times left as text`);
    else assert.equal(timesInText, 0);
    assert.ok(
      coded.raw.length < uncoded.raw.length * 0.9,
      `${coded.raw.length} of ${uncoded.raw.length} bytes`,
    );
  }
});

Deno.test("lines with too few ids are not coded", () => {
  const id = "6a8ec3aab898ae608aa7225fdc44a737";
  for (const [filler, coded] of [[40, true], [2000, false]] as const) {
    const b = new BlockBuilder({ codeLines: true });
    b.addString(1n, `trace=${id} ${"x".repeat(filler)}`);
    assert.equal((b.finish().raw[0] & 16) === 16, coded, `${filler} bytes besides the id`);
  }
});

Deno.test("lines whose times repeat their timestamps are coded, ids or none", () => {
  const b = new BlockBuilder({ codeLines: true });
  const rows: [bigint, string, string][] = [];
  for (let i = 0; i < 100; i++) {
    const ts = 1_764_600_668_754_725_751n + BigInt(i) * 1_234_567_890n;
    const time = new Date(Number(ts / 1_000_000n)).toISOString();
    rows.push([ts, `${time} INFO served /home in ${i} ms`, ""]);
    b.addString(ts, rows[i][1]);
  }
  const raw = b.finish().raw;
  assert.equal(raw[0] & 48, 48, "coded, times and all");
  assert.deepEqual(contents(raw), rows);
  assert.ok(!dec.decode(raw).includes("2025-12-01T"));
});

Deno.test("a damaged coded block throws a RangeError", () => {
  const b = new BlockBuilder({ codeLines: true });
  for (let i = 0; i < 20; i++) {
    b.addString(BigInt(i), `id=6a8ec3aab898ae608aa7225fdc44a7${10 + i} ok`);
  }
  const raw = b.finish().raw;
  assert.equal(raw[0] & 16, 16);
  assert.throws(() => decodeBlock(raw.subarray(0, raw.length - 1)), RangeError);
  // The last byte of the text section (a newline) gone: the ids run over, or lines end early.
  const text = new TextDecoder().decode(raw);
  const at = text.lastIndexOf(" ok\n") + 3;
  const cut = new Uint8Array([...raw.subarray(0, at), ...raw.subarray(at + 1)]);
  assert.throws(() => decodeBlock(cut), RangeError);
});

Deno.test("a block is marked ASCII and newline-terminated exactly when its lines are, wherever the byte that says otherwise sits", () => {
  const rng = new Rng();
  rng.state = 3;
  for (let n = 0; n < 3000; n++) {
    // Mostly ASCII letters; now and then a newline or a lone byte over 0x7f, at any offset.
    const lines = Array.from(
      { length: 1 + rng.below(6) },
      () =>
        Uint8Array.from({ length: rng.below(23) }, () => {
          const r = rng.below(200);
          return r === 0 ? 0x0a : r === 1 ? 0x80 + rng.below(128) : 0x61 + rng.below(26);
        }),
    );
    const b = new BlockBuilder({ codeLines: n % 2 === 0 });
    lines.forEach((line, i) => b.add(BigInt(i), line));
    const block = decodeBlock(b.finish().raw);
    const read = [...block.ends].map((end, i) => block.lines.slice(block.starts[i], end));
    assert.deepEqual(read, lines);
    assert.equal(block.ascii, !lines.some((l) => l.some((byte) => byte >= 0x80)), `block ${n}`);
  }
});
