/**
 * Harvesters: sources that loge reads itself, each feeding the same WAL and
 * durability path as a push ({@linkcode Batcher}), configured in the config
 * file's `harvesters` list:
 *
 * ```yaml
 * harvesters:
 *   - { type: file, path: "/var/log/app/*.log", labels: { app: web }, format: lines, start_at: end }
 *   - { type: socket, listen: "tcp://0.0.0.0:9000", format: ndjson, labels: { source: tcp },
 *       label_fields: [level, service], timestamp_field: timestamp }
 *   - { type: socket, listen: "unix:///run/loge.sock", format: lines }
 *   - { type: syslog, listen: "udp://0.0.0.0:5514" }        # also tcp://
 * ```
 *
 * Files are followed across rotation and truncation, from where they stood
 * at the last stop (`file.ts`). Sockets take a line (`format: lines`) or a
 * JSON object (`format: ndjson`) a line; syslog takes RFC 5424 and RFC 3164 messages, a datagram each over
 * UDP, octet-counted or a line each over TCP. Malformed input is counted
 * and skipped with a log line; it never stops a harvester.
 *
 * @module
 */

import dgram from "node:dgram";
import type { IngestSink } from "../ingest/ingester.ts";
import type { PayloadLimits } from "../ingest/push_limits.ts";
import { Batcher, type HarvestCounters, MAX_PENDING_MESSAGE } from "./batcher.ts";
import { type LineFormat, mapLine } from "./line_format.ts";
import { parseSyslog, SyslogFramer } from "./syslog.ts";
import { followFiles } from "./file.ts";
import { join } from "node:path";

/** A harvester as configured, checked. */
export type HarvesterConfig =
  | {
    readonly type: "socket";
    readonly listen: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly format: LineFormat;
  }
  | {
    readonly type: "syslog";
    readonly listen: string;
    readonly labels: Readonly<Record<string, string>>;
  }
  | {
    readonly type: "file";
    readonly path: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly format: LineFormat;
    readonly startAt: "beginning" | "end";
  };

/** The running harvesters. */
export interface Harvesters {
  /** Each harvester's figures, for `/api/v1/stats`. */
  stats(): ({ harvester: string } & HarvestCounters)[];
  /** Stops listening and stores what was read. */
  close(): Promise<void>;
}

/** A harvester that cannot be run as configured: a usage error of the config file. */
export class HarvesterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HarvesterConfigError";
  }
}

const KEYS: Record<string, readonly string[]> = {
  socket: ["type", "listen", "format", "labels", "label_fields", "timestamp_field"],
  syslog: ["type", "listen", "labels"],
  file: ["type", "path", "format", "labels", "label_fields", "timestamp_field", "start_at"],
};

/**
 * Checks the `harvesters` list of a config file.
 *
 * @throws {HarvesterConfigError} naming the harvester and what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseHarvesters } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const [h] = parseHarvesters([{ type: "syslog", listen: "udp://127.0.0.1:5514" }], "loge.yaml");
 * assert.equal(h.type, "syslog");
 * assert.throws(() => parseHarvesters([{ type: "socket" }], "loge.yaml"), /harvester 1 in loge.yaml: "listen"/);
 * ```
 */
export function parseHarvesters(raw: unknown, path: string): HarvesterConfig[] {
  if (!Array.isArray(raw)) throw new HarvesterConfigError(`"harvesters" in ${path} must be a list`);
  return raw.map((h, i): HarvesterConfig => {
    const bad = (what: string) =>
      new HarvesterConfigError(`harvester ${i + 1} in ${path}: ${what}`);
    if (typeof h !== "object" || h === null || Array.isArray(h)) throw bad("expected a mapping");
    const o = h as Record<string, unknown>;
    if (o.type === "zeromq") {
      throw bad(
        "type zeromq is not built: under Deno the zeromq package's PULL socket receives " +
          "nothing in most runs (see README)",
      );
    }
    if (o.type !== "socket" && o.type !== "syslog" && o.type !== "file") {
      throw bad(`"type" must be file, socket or syslog, got ${JSON.stringify(o.type)}`);
    }
    for (const key of Object.keys(o)) {
      if (!KEYS[o.type].includes(key)) throw bad(`unknown key ${JSON.stringify(key)}`);
    }
    const labelMap = (o.labels ?? {}) as Record<string, unknown>;
    if (
      typeof labelMap !== "object" || Array.isArray(labelMap) ||
      Object.values(labelMap).some((v) => typeof v !== "string")
    ) {
      throw bad(`"labels" must map names to strings`);
    }
    const labels = labelMap as Record<string, string>;
    if (o.type === "file") {
      if (typeof o.path !== "string" || !o.path.startsWith("/")) {
        throw bad(`"path" must be an absolute path or glob, such as /var/log/app/*.log`);
      }
      if (/[*?]/.test(o.path.slice(0, o.path.lastIndexOf("/")))) {
        throw bad(`"path" may have * and ? in its file name only, not in its folders`);
      }
      const startAt = o.start_at ?? "end";
      if (startAt !== "end" && startAt !== "beginning") {
        throw bad(`"start_at" must be end or beginning`);
      }
      return { type: "file", path: o.path, labels, format: lineFormat(o, labels, bad), startAt };
    }
    if (typeof o.listen !== "string") {
      throw bad(`"listen" must be an address such as tcp://0.0.0.0:9000`);
    }
    const schemes = o.type === "socket" ? ["tcp", "unix"] : ["tcp", "udp"];
    const scheme = /^([a-z]+):\/\//.exec(o.listen)?.[1];
    if (!scheme || !schemes.includes(scheme)) {
      throw bad(`"listen" must start with ${schemes.map((s) => `${s}://`).join(" or ")}`);
    }
    if (scheme !== "unix" && hostPort(o.listen.slice(scheme.length + 3)) === undefined) {
      throw bad(
        `"listen" ${
          JSON.stringify(o.listen)
        } needs a host and a port, e.g. ${scheme}://0.0.0.0:9000`,
      );
    }
    if (o.type === "syslog") return { type: "syslog", listen: o.listen, labels };
    return { type: "socket", listen: o.listen, labels, format: lineFormat(o, labels, bad) };
  });
}

/** The `format`, `label_fields` and `timestamp_field` of a harvester, checked. */
function lineFormat(
  o: Record<string, unknown>,
  labels: Record<string, string>,
  bad: (what: string) => Error,
): LineFormat {
  const format = o.format ?? "lines";
  if (format !== "lines" && format !== "ndjson") throw bad(`"format" must be lines or ndjson`);
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (o.label_fields !== undefined && (format !== "ndjson" || !strings(o.label_fields))) {
    throw bad(`"label_fields" is a list of field names, with format: ndjson`);
  }
  if (
    o.timestamp_field !== undefined &&
    (format !== "ndjson" || typeof o.timestamp_field !== "string")
  ) {
    throw bad(`"timestamp_field" is a field name, with format: ndjson`);
  }
  return {
    format,
    labels,
    labelFields: o.label_fields as string[] | undefined,
    timestampField: o.timestamp_field as string | undefined,
  };
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/**
 * Starts `configs`, each with its own batcher into `sink`.
 *
 * @throws {Error} when an address cannot be listened on (in use, no permission).
 */
export async function startHarvesters(
  configs: readonly HarvesterConfig[],
  sink: IngestSink,
  stateDir: string,
  limits?: PayloadLimits,
): Promise<Harvesters> {
  const running: { name: string; batcher: Batcher; stop: () => Promise<void> }[] = [];
  try {
    for (const config of configs) {
      if (config.type === "file") {
        const name = `file ${config.path}`;
        const batcher = new Batcher(sink, name, limits);
        const state = join(stateDir, `file-${config.path.replace(/[^a-zA-Z0-9.-]/g, "_")}.json`);
        const stop = followFiles(config.path, config.format, config.startAt, state, batcher);
        running.push({ name, batcher, stop });
        continue;
      }
      const name = `${config.type} ${config.listen}`;
      const batcher = new Batcher(sink, name, limits);
      const take = (text: string) => {
        const line = config.type === "syslog"
          ? parseSyslog(text, config.labels, nowNs())
          : mapLine(text, config.format, nowNs());
        return typeof line === "string" ? (batcher.malformed(line), undefined) : batcher.add(line);
      };
      const [scheme, address] = config.listen.split("://");
      const stop = scheme === "udp"
        ? await listenUdp(address, take, (dropping) => batcher.dropped(dropping))
        : listenStream(
          scheme as "tcp" | "unix",
          address,
          take,
          config.type === "syslog",
          batcher,
        );
      running.push({ name, batcher, stop });
    }
  } catch (error) {
    for (const r of running) void r.stop();
    throw error;
  }
  return {
    stats: () => running.map((r) => ({ harvester: r.name, ...r.batcher.counters })),
    close: async () => {
      // Batches storage refuses are not tried again: a stop must not wait for space.
      await Promise.all(running.map(async (r) => {
        const closing = r.batcher.close();
        await r.stop();
        await closing;
        await r.batcher.flush();
      }));
    },
  };
}

/** The host and port of `host:port` (`[v6]:port` too), or none. */
function hostPort(address: string): { hostname: string; port: number } | undefined {
  const at = address.lastIndexOf(":");
  const port = Number(address.slice(at + 1));
  const hostname = address.slice(0, at).replace(/^\[|\]$/g, "");
  if (at <= 0 || hostname === "" || !/^\d+$/.test(address.slice(at + 1)) || port > 65535) {
    return undefined;
  }
  return { hostname, port };
}

/** Connections a TCP or Unix harvester holds at once; more are closed at once, and counted. */
export const MAX_CONNECTIONS = 1024;
/** How long a harvester waits to accept again after accepting failed (out of descriptors). */
const ACCEPT_RETRY_MS = 100;

/**
 * Listens for TCP or Unix connections; each message (a line, or a syslog
 * frame) goes to `take`. A connection that holds more than
 * {@linkcode MAX_PENDING_MESSAGE} of a message without its end is counted
 * malformed and closed, and one past {@linkcode MAX_CONNECTIONS} open is
 * closed on arrival and counted refused: peers cannot fill memory or file
 * descriptors. Returns the stop: it closes the listener and the connections,
 * and resolves once every message read before has gone to `take`, so that
 * the batch stored after it holds them all.
 *
 * @example
 * ```ts
 * import { listenStream } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const taken: string[] = [];
 * const counted = { malformed() {}, refused() {} };
 * const stop = listenStream("unix", `${dir}/s`, (m) => void taken.push(m), false, counted);
 * const conn = await Deno.connect({ transport: "unix", path: `${dir}/s` });
 * await conn.write(new TextEncoder().encode("one\ntwo\n"));
 * while (taken.length < 2) await new Promise((r) => setTimeout(r, 10));
 * await stop();
 * conn.close();
 * assert.deepEqual(taken, ["one", "two"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function listenStream(
  scheme: "tcp" | "unix",
  address: string,
  take: (text: string) => Promise<void> | undefined,
  syslog: boolean,
  counted: Pick<Batcher, "malformed" | "refused">,
): () => Promise<void> {
  if (scheme === "unix") {
    try {
      Deno.removeSync(address); // a socket file left by a crash
    } catch { /* none */ }
  }
  const listener = scheme === "tcp"
    ? Deno.listen({ transport: "tcp", ...hostPort(address)! })
    : Deno.listen({ transport: "unix", path: address });
  const connections = new Set<Deno.Conn>();
  /** Each connection's reading, until it has handed on what it read. */
  const readers = new Set<Promise<void>>();
  let closed = false;
  const accepting = (async () => {
    let refusing = false;
    while (!closed) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        // Closed by the stop; or out of file descriptors: look again soon, not never.
        if (!closed) await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      if (closed) {
        // Accepted just as the stop began: the stop would wait for its peer to hang up.
        conn.close();
        break;
      }
      if (connections.size >= MAX_CONNECTIONS) {
        counted.refused(refusing);
        refusing = true;
        conn.close();
        continue;
      }
      refusing = false;
      connections.add(conn);
      const reading = (async () => {
        const framer = syslog ? new SyslogFramer() : undefined;
        let rest = "";
        try {
          for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) {
            const messages = framer ? framer.push(chunk) : split(rest + chunk);
            if (!framer) rest = (messages as string[] & { rest: string }).rest;
            // A full batch waits until stored: the sender is slowed, not buffered.
            for (const m of messages) await take(m);
            if ((framer ? framer.pending : rest.length) > MAX_PENDING_MESSAGE) {
              counted.malformed(
                `a message of over ${MAX_PENDING_MESSAGE} characters has no end: connection closed`,
              );
              rest = "";
              conn.close();
              break;
            }
          }
          if (rest.trim() !== "") await take(rest);
        } catch {
          /* the peer went away */
        } finally {
          connections.delete(conn);
        }
      })();
      readers.add(reading);
      void reading.finally(() => readers.delete(reading));
    }
  })();
  return async () => {
    closed = true;
    listener.close();
    for (const c of connections) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await accepting;
    // A connection may be midway through a chunk of messages (a full batch makes it wait for
    // storage): the stop stores what it read only once it has handed it all on.
    await Promise.all(readers);
  };
}

/** Complete lines of `text` (without their `\n`, `\r\n`), and what follows the last. */
function split(text: string): string[] & { rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  const out = lines.map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "") as
    & string[]
    & { rest: string };
  out.rest = rest;
  return out;
}

/** Datagrams that may wait for storage; more are dropped. */
export const MAX_WAITING_DATAGRAMS = 10_000;

/**
 * Listens for datagrams, a message each (through `node:dgram`: Deno's own
 * datagram API needs an unstable flag). Senders cannot be slowed: while
 * {@linkcode MAX_WAITING_DATAGRAMS} wait behind a full batch, the next ones
 * go to `dropped` (told whether drops were already under way).
 */
async function listenUdp(
  address: string,
  take: (text: string) => Promise<void> | undefined,
  dropped: (dropping: boolean) => void,
): Promise<() => Promise<void>> {
  const { hostname, port } = hostPort(address)!;
  const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
  const decoder = new TextDecoder();
  // Datagrams are taken in order; a full batch holds the next ones back.
  let taking = Promise.resolve();
  let waiting = 0;
  let dropping = false;
  socket.on("message", (data: Uint8Array) => {
    if (waiting >= MAX_WAITING_DATAGRAMS) {
      dropped(dropping);
      dropping = true;
      return;
    }
    dropping = false;
    waiting++;
    taking = taking.then(() => take(decoder.decode(data))).finally(() => waiting--);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, hostname, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {}); // a datagram that cannot be read: nothing to answer
  return async () => {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    await taking;
  };
}
