/**
 * Test helpers for talking to a running loge server over HTTP: exact JSON (nanosecond
 * timestamps as bigints), a request helper that always consumes the answer, the read
 * endpoints' answers, polling, and the push payload of the end-to-end tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson } from "./server.ts";

/** A stream's label set. */
export type Labels = Record<string, string>;

/** One entry of a query response, timestamps exact. */
export interface Entry {
  timestamp: bigint;
  line: string;
  labels: Labels;
  metadata?: Record<string, string>;
}

const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/** JSON with bigints written as exact integers (how a client sends nanoseconds). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

/** Parses JSON keeping integers beyond 2^53 exact, as bigints. */
// deno-lint-ignore no-explicit-any
export function parseExact(text: string): any {
  return JSON.parse(
    text,
    (_k, v, ctx?: { source?: string }) =>
      typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source &&
        /^-?\d+$/.test(ctx.source)
        ? BigInt(ctx.source)
        : v,
  );
}

/** A server's answer: status, text, the text parsed exactly (or null), and headers. */
export interface Reply {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** Sends a request; a `body` that is not a string is sent as JSON. Always consumes the answer. */
export async function call(
  url: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const body = init.body === undefined
    ? undefined
    : typeof init.body === "string"
    ? init.body
    : toJson(init.body);
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    body,
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? parseExact(text) : null;
  } catch { /* not JSON: the assertions on `body` will say so */ }
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** POSTs a query that must succeed; returns its entries and the raw text. */
export async function query(
  url: string,
  body: unknown,
): Promise<{ entries: Entry[]; text: string }> {
  const r = await call(url, "/api/v1/query", { body });
  assert.equal(r.status, 200, `${toJson(body)} → ${r.text}`);
  assert.equal(r.body.status, "success");
  assert.ok(Array.isArray(r.body.data));
  return { entries: r.body.data, text: r.text };
}

export async function lines(url: string, body: unknown): Promise<string[]> {
  return (await query(url, body)).entries.map((e) => e.line);
}

/** `GET /api/v1/stats`, which must succeed. */
export async function stats(url: string) {
  const r = await call(url, "/api/v1/stats");
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** Polls `check` every 50 ms until it holds or `ms` pass. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The segment file names in `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).filter((n) =>
    n.endsWith(".loge")
  ).sort();
}

/** Waits until compaction has left only level-1 segments in `dir`. */
export async function waitCompacted(dir: string): Promise<void> {
  await waitFor("only l1 segments", async () => {
    const names = await segmentFiles(dir);
    return names.length > 0 && names.every((n) => n.startsWith("l1-"));
  });
}

/** A push payload of `[labels, ts, line, metadata?]` rows, one stream per row. */
export function payloadOf(rows: [Labels, bigint, string, Labels?][]) {
  return {
    streams: rows.map(([stream, ts, line, meta]) => ({
      stream,
      values: [meta ? [String(ts), line, meta] : [String(ts), line]],
    })),
  };
}

/** Pushes `rows` (see {@linkcode payloadOf}) as JSON; the push must succeed. */
export async function push(url: string, rows: [Labels, bigint, string, Labels?][]): Promise<void> {
  const res = await pushJson(url, payloadOf(rows));
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** A line read back through Loki's API: `[stream labels, ns timestamp, line, structured metadata]`. */
export type StoredRow = [Labels, string, string, Labels];

/**
 * Every line `selector` selects, oldest first, as Loki's `query_range` answers
 * it with categorized labels (at most `limit`).
 */
export async function storedRows(
  url: string,
  selector: string,
  limit = 1000,
): Promise<StoredRow[]> {
  const params = new URLSearchParams({
    query: selector,
    start: "0",
    end: "4000000000000000000",
    limit: String(limit),
    direction: "forward",
  });
  const res = await fetch(`${url}/loki/api/v1/query_range?${params}`, {
    headers: { "X-Loki-Response-Encoding-Flags": "categorize-labels" },
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const rows: StoredRow[] = [];
  for (const s of JSON.parse(text).data.result) {
    for (const [ts, line, cats] of s.values) {
      rows.push([s.stream, ts, line, cats.structuredMetadata ?? {}]);
    }
  }
  return rows.sort((a, b) => (BigInt(a[1]) < BigInt(b[1]) ? -1 : 1));
}
