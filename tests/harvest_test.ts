/**
 * Harvesters on the real server, configured in its config file: syslog
 * datagrams and TCP streams of both RFCs arrive with their labels, NDJSON
 * over TCP and lines over a Unix socket are stored with the labels and times
 * they map to, malformed input is counted and skipped while the rest goes
 * on, and a bad harvester in the file exits 2 naming it.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { join } from "node:path";
import { startServer, withServer } from "../testing/server.ts";
import { runLoge } from "../testing/cli.ts";
import { stats } from "../testing/http.ts";
import { MAX_CONNECTIONS, MAX_WAITING_DATAGRAMS } from "../src/harvest/mod.ts";
import { Catalog } from "../src/storage/catalog.ts";
import { catalogLines } from "../testing/stored_lines.ts";

function freePort(): number {
  const listener = Deno.listen({ port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Stored {
  labels: Record<string, string>;
  line: string;
  timestamp: string;
}

async function stored(url: string, query: string): Promise<Stored[]> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, start: "0", limit: 1000, direction: "forward" }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  // Exact nanoseconds: each timestamp's digits.
  const times = [...text.matchAll(/"timestamp":(\d+)/g)].map((m) => m[1]);
  return JSON.parse(text).data.map((e: Stored, i: number) => ({
    labels: e.labels,
    line: e.line,
    timestamp: times[i],
  }));
}

/** The harvesters' figures of `/api/v1/stats`. */
async function harvesters(url: string) {
  return (await stats(url)).harvesters;
}

/** `f()` once `done` holds of it; after 10 s, its last value, with the wait named in the log. */
async function eventually<T>(what: string, f: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await f();
    if (done(v)) return v;
    if (Date.now() > deadline) {
      console.error(`still waiting for ${what} after 10 s`);
      return v; // the assertions after say what is wrong with it
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A temp folder with `logs/` in it, the path of `logs/app.log`, and an
 * appender of `line <from>` … `line <to>` to it (or to `path`).
 */
async function logFolder(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  const logs = join(dir, "logs");
  await Deno.mkdir(logs);
  const log = join(logs, "app.log");
  const append = (from: number, to: number, path = log) =>
    Deno.writeTextFile(
      path,
      Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join(""),
      { append: true },
    );
  return { dir, logs, log, append };
}

async function writeTo(conn: Deno.Conn, text: string) {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

Deno.test("harvesters: syslog over UDP and TCP (RFC 5424 and 3164), NDJSON over TCP, lines over a Unix socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_" });
  const [udp, tcpSyslog, tcpJson] = [freePort(), freePort(), freePort()];
  const sock = join(dir, "loge.sock");
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    [
      "harvesters:",
      `  - { type: syslog, listen: "udp://127.0.0.1:${udp}", labels: { via: udp } }`,
      `  - { type: syslog, listen: "tcp://127.0.0.1:${tcpSyslog}" }`,
      `  - { type: socket, listen: "tcp://127.0.0.1:${tcpJson}", format: ndjson, labels: { source: tcp },`,
      "      label_fields: [level, service], timestamp_field: timestamp }",
      `  - { type: socket, listen: "unix://${sock}", format: lines, labels: { source: unix } }`,
    ].join("\n"),
  );
  try {
    await withServer(async ({ url }) => {
      // Syslog datagrams, one message each.
      const client = dgram.createSocket("udp4");
      const send = (m: string) =>
        new Promise<void>((resolve, reject) =>
          client.send(
            new TextEncoder().encode(m),
            udp,
            "127.0.0.1",
            (e) => e ? reject(e) : resolve(),
          )
        );
      await send("<34>1 2026-11-30T10:00:00.5Z web1 sshd 4242 ID47 - Failed password for root");
      await send("<13>Nov 30 10:00:01 db2 cron[77]: job done");
      await send("no priority at all"); // malformed: counted, skipped
      client.close();
      // Syslog over TCP: an octet-counted frame, then a line.
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: tcpSyslog });
      const framed = '<165>1 2026-11-30T10:00:02Z app3 api - - [meta x="1"] user created';
      await writeTo(tcp, `${new TextEncoder().encode(framed).length} ${framed}`);
      await writeTo(tcp, "<11>Nov 30 10:00:03 app3 api: disk failing\n");
      tcp.close();
      // NDJSON: labels from fields, the time from its field, the object as the line.
      const json = await Deno.connect({ hostname: "127.0.0.1", port: tcpJson });
      const docs = [
        '{"timestamp":"2026-11-30T10:00:04Z","level":"error","service":"pay","msg":"declined"}',
        '{"timestamp":1796032805,"level":"info","msg":"seconds"}',
        "{broken",
        '{"timestamp":1796032806123,"level":"info","service":"pay","msg":"millis"}',
      ];
      await writeTo(json, docs.join("\n") + "\n");
      json.close();
      // Plain lines over a Unix socket, the last without its newline.
      const unix = await Deno.connect({ transport: "unix", path: sock });
      await writeTo(unix, "first line\r\nsecond line\nthird");
      unix.close();

      const syslog = await eventually(
        "syslog lines",
        () => stored(url, '{facility=~".+"}'),
        (v) => v.length === 4,
      );
      const byLine = Object.fromEntries(syslog.map((s) => [s.line, s]));
      assert.deepEqual(byLine["Failed password for root"].labels, {
        app: "sshd",
        host: "web1",
        facility: "auth",
        level: "crit",
        via: "udp",
      });
      assert.equal(byLine["Failed password for root"].timestamp, "1796032800500000000");
      assert.deepEqual(byLine["job done"].labels, {
        app: "cron",
        host: "db2",
        facility: "user",
        level: "notice",
        via: "udp",
      });
      assert.deepEqual(byLine["user created"].labels, {
        app: "api",
        host: "app3",
        facility: "local4",
        level: "notice",
      });
      assert.deepEqual(byLine["disk failing"].labels.level, "err");

      const ndjson = await eventually(
        "ndjson lines",
        () => stored(url, '{source="tcp"}'),
        (v) => v.length === 3,
      );
      assert.deepEqual(
        ndjson.map((s) => [s.timestamp, s.labels, JSON.parse(s.line).msg]),
        [
          ["1796032804000000000", { source: "tcp", level: "error", service: "pay" }, "declined"],
          ["1796032805000000000", { source: "tcp", level: "info" }, "seconds"],
          ["1796032806123000000", { source: "tcp", level: "info", service: "pay" }, "millis"],
        ],
      );
      const lines = await eventually(
        "unix lines",
        () => stored(url, '{source="unix"}'),
        (v) => v.length === 3,
      );
      assert.deepEqual(lines.map((l) => l.line), ["first line", "second line", "third"]);

      const { harvesters } = await (await fetch(`${url}/api/v1/stats`)).json();
      const counts = Object.fromEntries(
        harvesters.map((h: { harvester: string; lines: number; malformed: number }) => [
          h.harvester.split(" ")[0] + " " + h.harvester.split("://")[0].split(" ")[1],
          [h.lines, h.malformed],
        ]),
      );
      assert.deepEqual(counts, {
        "syslog udp": [2, 1],
        "syslog tcp": [2, 0],
        "socket tcp": [3, 1],
        "socket unix": [3, 0],
      });
    }, { args: ["--config", config] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a bad harvester in the file exits 2 naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_" });
  try {
    const cases: [string, RegExp][] = [
      ["- { type: socket }", /harvester 1 in .*: "listen" must be an address/],
      ['- { type: syslog, listen: "unix:///x" }', /"listen" must start with tcp:\/\/ or udp:\/\//],
      ['- { type: socket, listen: "tcp://:9" }', /needs a host and a port/],
      ['- { type: socket, listen: "tcp://0.0.0.0:9", colour: red }', /unknown key "colour"/],
      ['- { type: zeromq, endpoint: "tcp://127.0.0.1:5555" }', /type zeromq is not built/],
      ["- { type: file, path: logs/x.log }", /"path" must be an absolute path or glob/],
      ["- { type: file, path: /var/*/x.log }", /in its file name only/],
      [
        '- { type: socket, listen: "tcp://0.0.0.0:9", label_fields: [a] }',
        /"label_fields" .* with format: ndjson/,
      ],
    ];
    for (const [list, message] of cases) {
      const config = join(dir, "loge.yaml");
      await Deno.writeTextFile(config, `harvesters:\n  ${list}\n`);
      const run = await runLoge(["serve", "--config", config, "--output-path", join(dir, "data")]);
      assert.equal(run.code, 2, `${list}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a file followed across a rename-rotation, a truncation and a restart loses and repeats nothing", async () => {
  const { dir, logs, log, append } = await logFolder("loge_harvest_file_");
  const settle = () => new Promise((r) => setTimeout(r, 800)); // a few looks of the harvester
  await append(1, 5); // before the harvester: skipped (start_at: end)
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    `harvesters:\n  - { type: file, path: "${logs}/app*.log", labels: { source: file } }\n`,
  );
  const args = ["--config", config];
  const data = join(dir, "data");
  const stored = async (url: string): Promise<string[]> => {
    const res = await fetch(`${url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: '{source="file"}', start: "0", limit: 1000 }),
    });
    const lines: string[] = (await res.json()).data.map((e: { line: string }) => e.line);
    return lines.sort((a, b) => Number(a.split(" ")[1]) - Number(b.split(" ")[1]));
  };
  let server = await startServer({ dir: data, args });
  try {
    await settle();
    await append(6, 10);
    await settle();
    // Rotation: renamed away, the writer finishes its last lines there, then a new file.
    await Deno.rename(log, join(logs, "app.log.1"));
    await append(11, 12, join(logs, "app.log.1"));
    await append(13, 15);
    await settle();
    // copytruncate: emptied in place, then written again.
    await Deno.truncate(log, 0);
    await settle();
    await append(16, 18);
    await settle();
    assert.equal(await server.stop(), 0, server.stderr());
    // Written while loge was down, and after: read from where it stopped.
    await append(19, 20);
    server = await startServer({ dir: data, args });
    await settle();
    await append(21, 22);
    await settle();
    const want = Array.from({ length: 17 }, (_, i) => `line ${i + 6}`);
    assert.deepEqual(await stored(server.url), want);
    const { harvesters } = await (await fetch(`${server.url}/api/v1/stats`)).json();
    assert.equal(harvesters[0].malformed, 0);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a file rotated while loge was down is read to its end, then the new one from its start", async () => {
  const { dir, logs, log, append } = await logFolder("loge_harvest_down_");
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    `harvesters:\n  - { type: file, path: "${logs}/app*.log", labels: { source: down }, start_at: beginning }\n`,
  );
  const args = ["--config", config];
  const data = join(dir, "data");
  const lines = async (url: string) =>
    (await stored(url, '{source="down"}')).map((e) => Number(e.line.slice(5))).sort((a, b) =>
      a - b
    );
  await append(1, 5);
  let server = await startServer({ dir: data, args });
  try {
    await eventually("the first lines", () => lines(server.url), (l) => l.length === 5);
    assert.equal(await server.stop(), 0, server.stderr());
    // While loge is down: the file gains lines, is rotated out of the pattern, and a new one starts.
    await append(6, 8);
    await Deno.rename(log, join(logs, "app.log.1"));
    await append(9, 10);
    server = await startServer({ dir: data, args });
    const got = await eventually("every line", () => lines(server.url), (l) => l.length >= 10);
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a peer or a file holding over 1 MiB of a line without its end is counted and cut off; others go on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_long_" });
  const [lines, syslog] = [freePort(), freePort()];
  const file = join(dir, "long.log");
  await Deno.writeTextFile(file, "");
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    [
      "harvesters:",
      `  - { type: socket, listen: "tcp://127.0.0.1:${lines}", labels: { source: long } }`,
      `  - { type: syslog, listen: "tcp://127.0.0.1:${syslog}", labels: { source: long } }`,
      `  - { type: file, path: "${file}", labels: { source: file } }`,
    ].join("\n"),
  );
  try {
    await withServer(async ({ url }) => {
      for (
        const [port, endless] of [[lines, "x"], [syslog, "999999999 <1>1 - h a - - - x"]] as const
      ) {
        const hog = await Deno.connect({ hostname: "127.0.0.1", port });
        // Written until the harvester closes the connection, at most 4 MiB.
        const chunk = new TextEncoder().encode(endless.padEnd(64 * 1024, "x"));
        let closed = false;
        for (let i = 0; i < 64 && !closed; i++) {
          await hog.write(chunk).catch(() => closed = true);
        }
        hog.close();
      }
      const ok = await Deno.connect({ hostname: "127.0.0.1", port: lines });
      await writeTo(ok, "still fine\n");
      ok.close();
      // The file: a line of 3 MiB, written in pieces a harvester look apart, then a short one.
      await new Promise((r) => setTimeout(r, 500)); // the harvester has seen the file
      for (let i = 0; i < 3; i++) {
        await Deno.writeTextFile(file, "y".repeat(1024 * 1024), { append: true });
        await new Promise((r) => setTimeout(r, 300));
      }
      await Deno.writeTextFile(file, "\nafter the long line\n", { append: true });
      const stats = await eventually(
        "the hogs counted",
        () => harvesters(url),
        (h: { malformed: number; lines: number }[]) =>
          h[0].malformed === 1 && h[1].malformed === 1 && h[0].lines === 1 && h[2].lines === 1,
      );
      assert.deepEqual(
        stats.map((h: { malformed: number; lines: number }) => [h.lines, h.malformed]),
        [[1, 1], [0, 1], [1, 1]],
      );
      assert.deepEqual((await stored(url, '{source="file"}')).map((e) => e.line), [
        "after the long line",
      ]);
    }, { args: ["--config", config] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a line over --max-line-size, or with too many labels, is skipped as malformed; its batch is stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_limits_" });
  const port = freePort();
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    [
      "harvesters:",
      `  - { type: socket, listen: "tcp://127.0.0.1:${port}", format: ndjson, labels: { source: nd }, label_fields: [a, b, c] }`,
    ].join("\n"),
  );
  try {
    const args = [
      "--config",
      config,
      "--max-line-size",
      "100",
      "--max-label-names-per-series",
      "3",
    ];
    await withServer(async ({ url }) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeTo(
        conn,
        [
          JSON.stringify({ msg: "short", a: "1" }),
          JSON.stringify({ msg: "long", a: "1", pad: "z".repeat(200) }),
          JSON.stringify({ msg: "labels", a: "1", b: "2", c: "3" }),
          JSON.stringify({ msg: "also short", b: "2" }),
        ].join("\n") + "\n",
      );
      conn.close();
      const stats = await eventually(
        "the lines counted",
        () => harvesters(url),
        (h: { malformed: number; lines: number; failed: number }[]) =>
          h[0].lines + h[0].malformed === 4,
      );
      assert.deepEqual([stats[0].lines, stats[0].malformed, stats[0].failed], [2, 2, 0]);
      const lines = (await stored(url, '{source="nd"}')).map((e) => JSON.parse(e.line).msg);
      assert.deepEqual(lines.sort(), ["also short", "short"]);
    }, { args });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: a restart in the middle of a skipped long line does not store its tail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_skip_" });
  const file = join(dir, "long.log");
  await Deno.writeTextFile(file, "");
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    `harvesters:\n  - { type: file, path: "${file}", labels: { source: file } }\n`,
  );
  const args = ["--config", config];
  const data = join(dir, "data");
  const harvester = async (url: string) => (await harvesters(url))[0];
  let server = await startServer({ dir: data, args });
  try {
    await new Promise((r) => setTimeout(r, 500)); // the harvester has seen the file
    await Deno.writeTextFile(file, "y".repeat(1536 * 1024), { append: true });
    const h = await eventually(
      "the long line",
      () => harvester(server.url),
      (h) => h.malformed === 1,
    );
    assert.equal(h.malformed, 1);
    assert.equal(await server.stop(), 0, server.stderr());
    await Deno.writeTextFile(file, "y".repeat(1000) + "\nafter the restart\n", { append: true });
    server = await startServer({ dir: data, args });
    await eventually("the next line", () => harvester(server.url), (h) => h.lines >= 1);
    assert.deepEqual((await stored(server.url, '{source="file"}')).map((e) => e.line), [
      "after the restart",
    ]);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: connections past the limit are closed on arrival and counted; the harvester goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_conns_" });
  const port = freePort();
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    `harvesters:\n  - { type: socket, listen: "tcp://127.0.0.1:${port}", labels: { source: conns } }\n`,
  );
  try {
    await withServer(async ({ url }) => {
      const stats = async () => (await harvesters(url))[0];
      const held: Deno.Conn[] = [];
      try {
        for (let i = 0; i < MAX_CONNECTIONS; i++) {
          held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        }
        // Each extra one is closed by the server: its read ends.
        for (let i = 0; i < 10; i++) {
          const extra = await Deno.connect({ hostname: "127.0.0.1", port });
          let timer: ReturnType<typeof setTimeout> | undefined;
          const closed = await Promise.race([
            extra.read(new Uint8Array(1)).then((n) => n === null, () => true),
            new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
          ]);
          clearTimeout(timer);
          extra.close();
          assert.ok(closed, `connection ${MAX_CONNECTIONS + i + 1} was kept open`);
        }
        const h = await eventually("refused", stats, (h) => h.refused === 10);
        assert.equal(h.refused, 10);
        const metrics = await (await fetch(`${url}/metrics`)).text();
        assert.match(
          metrics,
          new RegExp(
            `^loge_harvester_refused_total\\{harvester="socket tcp://127\\.0\\.0\\.1:${port}"\\} 10$`,
            "m",
          ),
          metrics.split("\n").filter((l) => l.startsWith("loge_harvester")).join("\n"),
        );
      } finally {
        for (const c of held) c.close();
      }
      // Once they are gone, connections are taken again.
      await eventually("the held ones gone", async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await writeTo(c, "taken again\n");
        const closed = await Promise.race([
          c.read(new Uint8Array(1)).then(() => true, () => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
        ]);
        c.close();
        return closed;
      }, (closed) => !closed);
      const h = await eventually("the line", stats, (h) => h.lines >= 1);
      assert.equal(h.lines, 1);
      assert.ok(h.refused >= 10);
    }, { args: ["--config", config] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harvesters: datagrams that arrive while storage is behind are dropped past a bound, counted, and what waited is stored at the stop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_harvest_" });
  const udp = freePort();
  const config = join(dir, "loge.yaml");
  await Deno.writeTextFile(
    config,
    `harvesters:\n  - { type: syslog, listen: "udp://127.0.0.1:${udp}" }\n`,
  );
  // One flush file, and no compaction pass for 10 minutes: every push waits for admission.
  const server = await startServer({
    dir: join(dir, "data"),
    args: [
      "--config",
      config,
      "--max-flush-files",
      "1",
      "--compact-interval",
      "10m",
      "--compact-min-files",
      "1",
    ],
  });
  try {
    const { url } = server;
    const res = await fetch(`${url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ streams: [{ stream: { app: "first" }, values: [["1", "x"]] }] }),
    });
    assert.equal(res.status, 200);
    await eventually(
      "the first flush file",
      async () => (await (await fetch(`${url}/api/v1/stats`)).json()).compaction.flush_files,
      (n) => n === 1,
    );
    const client = dgram.createSocket("udp4");
    const message = new TextEncoder().encode("<13>Nov 30 10:00:01 db2 cron[77]: job done");
    const stats = async () => (await harvesters(url))[0];
    // The kernel drops what a busy server does not read in time, uncounted: send in
    // rounds, paced, until the server has counted drops of its own.
    let sent = 0;
    let harvester = await stats();
    while (harvester.dropped === 0 && sent < 20 * MAX_WAITING_DATAGRAMS) {
      for (let i = 0; i < 1_000; i++, sent++) {
        await new Promise<void>((resolve, reject) =>
          client.send(message, udp, "127.0.0.1", (e) => e ? reject(e) : resolve())
        );
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
      }
      harvester = await stats();
    }
    client.close();
    harvester = await eventually("dropped datagrams", stats, (h) => h.dropped > 0);
    // Nothing could be stored; at most a batch and the bound waited, the rest was dropped.
    assert.ok(harvester.dropped > 0, JSON.stringify(harvester));
    assert.equal(harvester.lines, 0);
    assert.ok(harvester.dropped <= sent - MAX_WAITING_DATAGRAMS, JSON.stringify(harvester));
    // The server still answers.
    const query = await fetch(`${url}/api/v1/labels?start=0`);
    assert.equal(query.status, 200);
    await query.body?.cancel();
    // The stop stores what waited, without waiting for the pass ten minutes away.
    assert.equal(await server.stop(), 0);
    const catalog = await Catalog.open(server.dir);
    try {
      const stored = (await catalogLines(catalog)).filter((l) => l.line === "job done").length;
      assert.ok(stored >= MAX_WAITING_DATAGRAMS, `${stored} stored`);
      assert.ok(stored <= sent - harvester.dropped, `${stored} stored`);
    } finally {
      catalog.close();
    }
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
