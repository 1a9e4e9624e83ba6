/**
 * The live-tail phase of the benchmark: a fresh server (default flags) with `clients` tails open,
 * half Loki WebSockets (`/loki/api/v1/tail`) and half server-sent events (`/api/v1/tail`), all on
 * a query that also scans a background load of lines it does not keep; probe lines are then
 * pushed one per request, and each client notes when each probe arrives. A probe's latency at a
 * client is from its push's acknowledgement (the answer received) to its arrival there: the
 * clients and the pusher share this process's clock.
 *
 * @module
 */

import { pushJson } from "../testing/server.ts";
import { openSseTail, openWsTail, type TailClient } from "../testing/tail_client.ts";
import type { TailFigure } from "./figures.ts";
import {
  killServer,
  launchServer,
  serverStats,
  stderrLines,
  stopServer,
} from "./server_control.ts";
import { summarize } from "./stats.ts";

/** Tails open during the phase. */
export const TAIL_CLIENTS = 50;
/** The tails' query: probes are kept, the load is scanned and left. */
export const TAIL_QUERY = '{app=~"probe|load"} |= "probe-"';
/** Milliseconds between two probes. */
const PROBE_INTERVAL_MS = 50;
/** How long after the last probe arrivals are waited for. */
const SETTLE_MS = 5000;
/** Background pushes per second. */
const LOAD_PUSHES_PER_SEC = 10;

/** What the phase needs. */
export interface TailPhaseOptions {
  /** Data folder of the phase's server (created empty). */
  dir: string;
  /** Tails to open (even ones WebSocket, odd ones server-sent events). */
  clients: number;
  /** Probe lines to push. */
  probes: number;
  /** Lines per second of background load. */
  loadLinesPerSec: number;
  progress: (message: string) => void;
  /** Where the server's stderr lines go. */
  serverStderr: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pushes one payload of `{app}` lines at `ts`; throws unless it is acknowledged. */
async function pushLines(url: string, app: string, ts: bigint, lines: string[]): Promise<void> {
  const { status, body } = await pushJson(url, {
    streams: [{ stream: { app }, values: lines.map((line) => [String(ts), line]) }],
  });
  if (status !== 200) {
    throw new Error(`push of ${app} lines: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

/**
 * Runs the phase: tails open, load flowing, probes pushed; every tail closed and the server
 * stopped after.
 *
 * @throws {Error} If a tail cannot be opened or a push is refused.
 */
export async function tailLatencyPhase(o: TailPhaseOptions): Promise<TailFigure> {
  const server = await launchServer(o.dir, []);
  const clients: TailClient[] = [];
  try {
    const url = server.url;
    o.progress(`tail latency: opening ${o.clients} tails on ${TAIL_QUERY}`);
    /** Per client: probe number → arrival (performance.now()). */
    const arrivals: Map<number, number>[] = [];
    let repeated = 0;
    for (let i = 0; i < o.clients; i++) {
      const client = i % 2 === 0
        ? await openWsTail(url, { query: TAIL_QUERY })
        : await openSseTail(url, { query: TAIL_QUERY });
      const seen = new Map<number, number>();
      client.onLine = (line) => {
        const probe = Number(/^probe-(\d+) /.exec(line.line)?.[1]);
        if (seen.has(probe)) repeated++;
        else seen.set(probe, line.at);
      };
      clients.push(client);
      arrivals.push(seen);
    }

    let loading = true;
    let loadLines = 0;
    const perPush = Math.max(1, Math.round(o.loadLinesPerSec / LOAD_PUSHES_PER_SEC));
    const loadStarted = performance.now();
    const load = (async () => {
      for (let n = 0; loading; n++) {
        const lines = Array.from(
          { length: perPush },
          (_, i) => `GET /api/items/${n * perPush + i} 200 ${(n + i) % 997} ms`,
        );
        await pushLines(url, "load", BigInt(Date.now()) * 1_000_000n, lines);
        loadLines += perPush;
        const due = loadStarted + ((n + 1) * 1000) / LOAD_PUSHES_PER_SEC;
        await sleep(Math.max(0, due - performance.now()));
      }
    })();

    o.progress(`tail latency: ${o.probes} probes, one every ${PROBE_INTERVAL_MS} ms`);
    const acks: number[] = [];
    for (let k = 0; k < o.probes; k++) {
      await pushLines(url, "probe", BigInt(Date.now()) * 1_000_000n, [`probe-${k} of the bench`]);
      acks.push(performance.now());
      await sleep(PROBE_INTERVAL_MS);
    }
    const deadline = performance.now() + SETTLE_MS;
    while (arrivals.some((a) => a.size < o.probes) && performance.now() < deadline) await sleep(20);
    loading = false;
    await load;
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const latencies: number[] = [];
    let missed = 0;
    for (const seen of arrivals) {
      for (let k = 0; k < o.probes; k++) {
        const at = seen.get(k);
        if (at === undefined) missed++;
        else latencies.push(at - acks[k]);
      }
    }
    if (latencies.length === 0) throw new Error("no probe reached any tail");
    const tails = (await serverStats(url)).tails as { lines_dropped: number };
    for (const client of clients) client.close();
    const stopped = await stopServer(server);
    if (stopped.code !== 0) throw new Error(`the tail server exited with code ${stopped.code}`);
    const websocket = Math.ceil(o.clients / 2);
    return {
      clients: { websocket, sse: o.clients - websocket },
      query: TAIL_QUERY,
      probes: o.probes,
      loadLinesPerSec: Math.round(loadLines / loadSeconds),
      latencyMs: summarize(latencies),
      missed,
      repeated,
      dropped: tails.lines_dropped,
    };
  } finally {
    for (const client of clients) client.close();
    o.serverStderr.push(...stderrLines("tail server", server));
    await killServer(server);
  }
}
