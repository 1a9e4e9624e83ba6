/**
 * The hub: its limit (a place is free once a connection is gone, not when
 * its tail ends), the seam between replay and subscription, shutdown.
 */
import assert from "node:assert/strict";
import { ShuttingDownError } from "../ingest/ingester.ts";
import type { PushPayload } from "../ingest/payload.ts";
import type { LogQuery, SelectResult } from "../query/engine.ts";
import type { StreamLabels } from "../storage/catalog.ts";
import { TailHub, TailLimitError, type TailRequest } from "./hub.ts";
import type { TailBatch, TailEnd } from "./tail.ts";

const streams = new Map<string, StreamLabels>();
const streamOf = (key: string) => {
  let s = streams.get(key);
  if (!s) streams.set(key, s = { key, labels: JSON.parse(key) });
  return s;
};

class FakeSink {
  batches: TailBatch[] = [];
  ends: TailEnd[] = [];
  backlog = () => 0;
  send = (batch: TailBatch) => void this.batches.push(batch);
  close = (end: TailEnd) => void this.ends.push(end);
  lines = () => this.batches.flatMap((b) => b.entries.map((e) => e.line));
}

const ALL: TailRequest = { matchers: [], pushdown: [], pipeline: [], delayMs: 0 };

function payload(app: string, rows: [bigint, string][]): PushPayload {
  return {
    streams: [{
      key: JSON.stringify({ app }),
      ts: rows.map(([t]) => t),
      lines: rows.map(([, l]) => l),
    }],
    lines: rows.length,
  };
}

const noReplay = () => Promise.resolve({ entries: [], warnings: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("the hub refuses a tail over its limit until a connection is gone", () => {
  const hub = new TailHub({ maxClients: 2, streamOf, replay: noReplay });
  const a = hub.open(ALL, new FakeSink());
  hub.open(ALL, new FakeSink());
  assert.throws(
    () => hub.open(ALL, new FakeSink()),
    (e: unknown) =>
      e instanceof TailLimitError &&
      e.message === "max concurrent tail requests limit exceeded, count > limit (3 > 2)",
  );
  // Ended by the server, its connection still holds what it was sent.
  a.end({ reason: "slow", message: "client too slow" });
  assert.throws(() => hub.open(ALL, new FakeSink()), TailLimitError);
  a.disconnected();
  hub.open(ALL, new FakeSink());
  assert.deepEqual(hub.stats(), {
    open: 2,
    max: 2,
    opened: 3,
    refused: 2,
    lines_sent: 0,
    lines_dropped: 0,
    cut_off: 0,
  });
  hub.close();
});

Deno.test("a line pushed while the replay reads is delivered once, after the replay", async () => {
  const replay = Promise.withResolvers<SelectResult>();
  const asked: LogQuery[] = [];
  const hub = new TailHub({
    maxClients: 10,
    streamOf,
    replay: (query) => {
      asked.push(query);
      return replay.promise;
    },
  });
  const sink = new FakeSink();
  hub.open({ ...ALL, replay: { start: 100n, limit: 7 } }, sink);
  assert.deepEqual(asked.map((q) => [q.start, q.end, q.limit, q.direction]), [
    [100n, 0n, 7, "backward"],
  ]);
  hub.publish(payload("web", [[150n, "pushed meanwhile"]]));
  await sleep(30);
  assert.equal(sink.batches.length, 0);
  const web = streamOf('{"app":"web"}');
  // The replay answers newest first.
  replay.resolve({
    entries: [{ ts: 120n, line: "stored 2", stream: web }, {
      ts: 110n,
      line: "stored 1",
      stream: web,
    }],
    warnings: ["segment x is damaged"],
  });
  await sleep(30);
  assert.deepEqual(sink.lines(), ["stored 1", "stored 2", "pushed meanwhile"]);
  assert.deepEqual(sink.batches[0].warnings, ["segment x is damaged"]);
  hub.close();
});

Deno.test("each tail gets the lines its query selects", async () => {
  const hub = new TailHub({ maxClients: 10, streamOf, replay: noReplay });
  const web = new FakeSink();
  const api = new FakeSink();
  hub.open({ ...ALL, matchers: [{ name: "app", op: "=", value: "web" }] }, web);
  hub.open({ ...ALL, matchers: [{ name: "app", op: "=", value: "api" }] }, api);
  hub.publish(payload("web", [[1n, "w1"], [2n, "w2"]]));
  hub.publish(payload("api", [[1n, "a1"]]));
  await sleep(150);
  assert.deepEqual(web.lines(), ["w1", "w2"]);
  assert.deepEqual(api.lines(), ["a1"]);
  assert.equal(hub.stats().lines_sent, 3);
  hub.close();
});

Deno.test("a failed replay ends its tail with the reason", async () => {
  const hub = new TailHub({
    maxClients: 1,
    streamOf,
    replay: () => Promise.reject(new Error("disk on fire")),
  });
  const sink = new FakeSink();
  hub.open({ ...ALL, replay: { start: 0n, limit: 1 } }, sink);
  await sleep(10);
  assert.deepEqual(sink.ends, [{ reason: "failed", message: "replay failed: disk on fire" }]);
  hub.close();
});

Deno.test("closing the hub ends every tail and refuses new ones", () => {
  const hub = new TailHub({ maxClients: 5, streamOf, replay: noReplay });
  const sinks = [new FakeSink(), new FakeSink()];
  for (const sink of sinks) hub.open(ALL, sink);
  hub.close();
  for (const sink of sinks) {
    assert.deepEqual(sink.ends, [{ reason: "shutdown", message: "server is shutting down" }]);
  }
  assert.throws(() => hub.open(ALL, new FakeSink()), ShuttingDownError);
});
