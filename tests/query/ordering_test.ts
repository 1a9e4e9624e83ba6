/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Ordering: results are newest first across memory, flush files and segments, ties in one
 * order, and every limit returns a prefix of that order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../../testing/server.ts";
import {
  type Entry,
  type Labels,
  push,
  query,
  stats,
  toJson,
  waitCompacted,
  waitFor,
} from "../../testing/http.ts";
import { MS, T0 } from "./fixture.ts";

Deno.test("results are newest first across memory, flush files and segments, ties in one order", async () => {
  const mix = { app: "mix" };
  const TIE = T0 + 14n * MS + MS / 2n;
  const regular = (phase: number): [Labels, bigint, string][] =>
    Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => i % 3 === phase)
      .map((i) => [mix, T0 + BigInt(i) * MS, `mix ${i}`]);
  const ties: [Labels, bigint, string][][] = [
    [[mix, TIE, "tie a"], [{ app: "mix", x: "1" }, TIE, "tie a"]],
    [[mix, TIE, "tie b"], [{ app: "mix", x: "2" }, TIE, "tie b"]],
    [[mix, TIE, "tie 0"], [{ app: "mix", x: "1" }, TIE, "tie c"]],
  ];
  // Phase 0 ends up in a compacted segment, phase 1 in a flush file, phase 2 in memory.
  let server = await startServer({
    args: [
      ...["--flush-interval", "50ms", "--flush-coalesce", "0"],
      ...["--compact-interval", "200ms", "--compact-min-files", "2"],
    ],
  });
  const dir = server.dir;
  try {
    const a = [...regular(0), ...ties[0]];
    await push(server.url, a.slice(0, 6));
    await push(server.url, a.slice(6));
    await waitCompacted(dir);
    assert.equal(await server.stop(), 0);

    server = await startServer({
      dir,
      args: ["--flush-interval", "50ms", "--flush-coalesce", "0", "--compact-interval", "0"],
    });
    await push(server.url, [...regular(1), ...ties[1]]);
    await waitFor("the flush", async () => (await stats(server.url)).rows_in_memory === 0);
    assert.equal(await server.stop(), 0);

    server = await startServer({
      dir,
      args: ["--flush-interval", "1h", "--compact-interval", "0"],
    });
    await push(server.url, [...regular(2), ...ties[2]]);
    const s = await stats(server.url);
    assert.ok(s.compacted_segments >= 1, toJson(s));
    assert.ok(s.flush_files >= 1, toJson(s));
    assert.equal(s.rows_in_memory, 12);
    assert.equal(s.rows_total, 36);

    const all = await query(server.url, { query: '{app="mix"}' });
    assert.equal(all.entries.length, 36);
    // Newest first; equal times by stream labels, then line (documented in log_entry.ts).
    const key = canonical;
    const sorted = [...all.entries].sort(newestFirst);
    assert.deepEqual(all.entries, sorted);
    assert.deepEqual(
      all.entries.filter((e) => e.timestamp === TIE).map((e) => `${key(e.labels)} ${e.line}`),
      [
        '{"app":"mix","x":"1"} tie a',
        '{"app":"mix","x":"1"} tie c',
        '{"app":"mix","x":"2"} tie b',
        '{"app":"mix"} tie 0',
        '{"app":"mix"} tie a',
        '{"app":"mix"} tie b',
      ],
    );
    assert.deepEqual(
      all.entries.filter((e) => e.timestamp !== TIE).map((e) => e.line),
      Array.from({ length: 30 }, (_, i) => `mix ${29 - i}`),
    );
    // The same order on repeated queries, and every limit returns a prefix of it.
    for (let i = 0; i < 3; i++) {
      assert.equal((await query(server.url, { query: '{app="mix"}' })).text, all.text);
    }
    for (const limit of [1, 5, 15, 16, 17, 20, 21, 22, 36]) {
      const { entries } = await query(server.url, { query: '{app="mix"}', limit });
      assert.deepEqual(entries, all.entries.slice(0, limit), `limit ${limit}`);
    }
    const window = await query(server.url, { query: "{}", start: T0 + 5n * MS, end: TIE });
    assert.deepEqual(
      window.entries,
      all.entries.filter((e) => e.timestamp >= T0 + 5n * MS && e.timestamp <= TIE),
    );
    const filtered = await query(server.url, { query: '{app="mix"} |= "tie"', limit: 4 });
    assert.deepEqual(
      filtered.entries,
      all.entries.filter((e) => e.line.includes("tie")).slice(0, 4),
    );
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A label set as canonical JSON (sorted keys), as streams are keyed. */
function canonical(labels: Labels): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));
}

/** Newest first; equal times by canonical stream labels, then line. */
function newestFirst(x: Entry, y: Entry): number {
  const key = canonical;
  if (x.timestamp !== y.timestamp) return x.timestamp > y.timestamp ? -1 : 1;
  if (key(x.labels) !== key(y.labels)) return key(x.labels) < key(y.labels) ? -1 : 1;
  return x.line < y.line ? -1 : x.line > y.line ? 1 : 0;
}

Deno.test("every limit returns a prefix of the full order, with many ties, one unit at a time", async () => {
  const random = prng(42);
  const streams: Labels[] = [{ app: "p" }, { app: "p", n: "1" }, { app: "p", n: "2" }, {
    app: "q",
  }];
  const rows: [Labels, bigint, string][] = Array.from({ length: 240 }, (_, i) => [
    streams[Math.floor(random() * streams.length)],
    T0 + BigInt(Math.floor(random() * 60)) * MS,
    `line ${String(Math.floor(random() * 1000)).padStart(3, "0")} #${i}`,
  ]);
  const reference: Entry[] = rows.map(([labels, timestamp, line]) => ({ timestamp, line, labels }))
    .sort(newestFirst);
  const args = [
    ...["--payload-size", "12", "--flush-interval", "1h", "--flush-coalesce", "0"],
    ...["--query-concurrency", "1"],
  ];
  let server = await startServer({ args: [...args, "--compact-interval", "0"] });
  const dir = server.dir;
  const check = async (state: string) => {
    const full = await query(server.url, { limit: 5000 });
    assert.deepEqual(full.entries, reference, state);
    for (const limit of [1, 2, 3, 7, 10, 33, 100, 239, 240]) {
      const { entries } = await query(server.url, { limit });
      assert.deepEqual(entries, reference.slice(0, limit), `${state}, limit ${limit}`);
    }
    for (
      const [q, keep] of [
        ['{app="p"}', (e: Entry) => e.labels.app === "p"],
        ['{n=~"1|2"} |= "5"', (e: Entry) => e.labels.n !== undefined && e.line.includes("5")],
      ] as [string, (e: Entry) => boolean][]
    ) {
      const want = reference.filter(keep);
      for (const limit of [1, 4, 25, 5000]) {
        const { entries } = await query(server.url, { query: q, limit });
        assert.deepEqual(entries, want.slice(0, limit), `${state}, ${q} limit ${limit}`);
      }
    }
    const start = T0 + 20n * MS, end = T0 + 40n * MS;
    const window = await query(server.url, { start, end, limit: 15 });
    assert.deepEqual(
      window.entries,
      reference.filter((e) => e.timestamp >= start && e.timestamp <= end).slice(0, 15),
      state,
    );
  };
  try {
    // Payloads of 1 to 23 rows: some buckets flush, others stay in memory.
    for (let i = 0; i < rows.length;) {
      const n = 1 + Math.floor(random() * 23);
      await push(server.url, rows.slice(i, i + n));
      i += n;
    }
    await waitFor("the flushes", async () => {
      const s = await stats(server.url);
      return s.flush_files > 0 && s.rows_in_memory < 240;
    });
    await check("memory and flush files");
    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: [...args, "--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    await check("compacted");
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
