/**
 * `deno task chaos [--cycles 50] [--damage-every 5] [--seed N] [--no-s3] [--s3-outage-every N]`:
 * cycles of SIGKILL under mixed load, with damage between some of them (and S3 outages, with
 * `--s3-outage-every`), and the proof that nothing acknowledged is lost.
 *
 * Each cycle starts the real server on the same data folder (flushes, compactions and rotation
 * to a real S3 server, `s3rver`, made frequent; hour-long time partitions, with each push's lines
 * spread over the last 4 hours, so merges write several segments), pushes in every format on every route (loge's JSON, msgpack and protobuf, Loki's
 * snappy protobuf and JSON, OTLP protobuf and JSON, Elasticsearch bulk) while a client queries (logs and metrics,
 * loge's and Loki's APIs), and kills it with SIGKILL at a random moment. Every few cycles the
 * stopped folder is damaged, in turn: a torn WAL tail, a flipped byte in the catalog, a truncated
 * segment file. At the end the server is started once more and stopped cleanly, and its files
 * are read: every acknowledged line must be there exactly once, except what the damage
 * destroyed (at most the pushes of a torn record; at most the lines of a truncated file, which
 * salvage recovers in part), and no request may have been answered with a 5xx.
 *
 * The stored lines are read from the data folder and, for rotated segments, from the S3
 * server's folder.
 *
 * @module
 */

import { Rng } from "../testing/prng.ts";
import { createEncoder, PUSH_FORMATS, type PushEncoder, type PushFormat } from "./push_client.ts";
import { esBulkServerArgs } from "./es_bulk_push.ts";
import { otlpServerArgs } from "./otlp_push.ts";
import { startServer, type TestServer } from "../testing/server.ts";
import { entryLines, storedLines } from "../testing/stored_lines.ts";
import { s3FolderReader, startS3, tierArgs } from "../testing/s3.ts";
import { Catalog } from "../src/storage/catalog.ts";
import { LOCAL, type LocationReader } from "../src/storage/source/opener.ts";
import { REMOTE } from "../src/tier/cold_tier.ts";

/**
 * Flushes, compactions and rotations every few hundred milliseconds, so a kill meets them at
 * work (the flags after {@linkcode tierArgs}' win).
 */
const FAST = [
  "--payload-size",
  "50",
  "--flush-interval",
  "50ms",
  "--compact-interval",
  "100ms",
  "--compact-min-files",
  "2",
  "--checkpoint-interval",
  "100ms",
  "--time-partition",
  "1h",
];

/** An hour, in ns: the time partition of {@linkcode FAST}. */
const HOUR_NS = 3_600_000_000_000n;
/** Hours a push's lines spread over, so a kill meets merges that write several segments. */
const PARTITIONS_SPANNED = 4;

/** Every wire format the bench's clients speak, each on its route. */
const FORMATS = PUSH_FORMATS;

/** Queries the load runs, on loge's API and on Loki's. */
const QUERIES = [
  { path: "/api/v1/query", body: { query: '{service_name=~".+"} |= "p1"', start: "0", limit: 50 } },
  { path: "/api/v1/query", body: { query: '{app="json"}', start: "0", limit: 200 } },
  {
    path: "/loki/api/v1/query_range?" + new URLSearchParams({
      query: 'sum by (app) (count_over_time({service_name=~".+"}[1m]))',
      start: "0",
      step: "60",
    }),
  },
];

/** The kinds of damage, applied in turn. */
export type DamageKind = "torn WAL tail" | "flipped catalog byte" | "truncated segment";
const DAMAGE: readonly DamageKind[] = [
  "torn WAL tail",
  "flipped catalog byte",
  "truncated segment",
];

/** What a chaos run is asked to do. */
export interface ChaosOptions {
  /** Kill cycles. */
  cycles: number;
  /** Damage after every this many cycles (0: never). */
  damageEvery: number;
  /** Seed of the kill times, the damage and the load. */
  seed: number;
  /** Rotate to a real S3 server (`s3rver`, which must be installed: `npm ci --prefix tests/s3`). */
  s3: boolean;
  /**
   * With `s3`, stop the S3 server for {@linkcode OUTAGE_CYCLES} cycles out of
   * every this many (0: never), so kills and damage meet a tier that cannot
   * be reached; it is back for the last start.
   */
  s3OutageEvery?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One damage done between cycles, and which acknowledged lines it may have destroyed. */
export interface Damage {
  cycle: number;
  kind: DamageKind;
  /** What was damaged: the file and how. */
  what: string;
  /** The lines it may destroy, when known: those of a truncated file. */
  lines?: ReadonlySet<string>;
  /** How many more, of lines unknown: a torn record's push. */
  mayDestroy: number;
}

/** What a chaos run found. */
export interface ChaosReport {
  cycles: number;
  /** Pushes acknowledged, by format. */
  pushes: Record<string, number>;
  /** Lines acknowledged. */
  acknowledged: number;
  /** Acknowledged lines not stored. */
  lost: number;
  /** Of those, what the damage explains: lines of truncated files, and at most a push per torn WAL tail. */
  lostToDamage: number;
  /** Lines stored more than once. */
  duplicated: number;
  /** Requests answered with a 5xx. */
  answers5xx: number;
  /** WAL segments left after the last, clean stop (it leaves nothing to replay). */
  walLeft: number;
  /** Segments in S3 at the end. */
  remoteSegments: number;
  /** Queries answered. */
  queries: number;
  damage: Damage[];
  /** The first 5xx answers and lost lines, to start from. */
  examples: string[];
}

/** Cycles an S3 outage lasts ({@linkcode ChaosOptions.s3OutageEvery}). */
const OUTAGE_CYCLES = 2;

/** Largest push of the load, in lines: the most a torn WAL record holds. */
const MAX_PUSH_LINES = 40;

/**
 * Runs the cycles in a fresh folder and reads what was stored.
 *
 * @throws {Error} when the server does not start again after a kill or damage.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const rng = new Rng();
  rng.state = options.seed;
  const dir = await Deno.makeTempDir({ prefix: "loge-chaos-" });
  const s3 = options.s3 ? await startS3() : undefined;
  const encoders = await Promise.all(FORMATS.map((f) => createEncoder(f)));
  const args = [
    ...(s3 ? tierArgs(s3, { age: "1s", interval: "300ms" }) : []),
    ...FAST,
    ...esBulkServerArgs(),
    ...otlpServerArgs(),
  ];
  const env = s3?.env;
  const acknowledged = new Set<string>();
  const report: ChaosReport = {
    cycles: options.cycles,
    pushes: Object.fromEntries(FORMATS.map((f) => [f, 0])),
    acknowledged: 0,
    lost: 0,
    lostToDamage: 0,
    duplicated: 0,
    answers5xx: 0,
    walLeft: 0,
    remoteSegments: 0,
    queries: 0,
    damage: [],
    examples: [],
  };
  const fault = (what: string) => {
    report.answers5xx++;
    if (report.examples.length < 10) report.examples.push(what);
  };
  try {
    const every = options.s3OutageEvery ?? 0;
    let s3Down = false;
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      const outage = s3 !== undefined && every > 0 && cycle % every >= every - OUTAGE_CYCLES;
      if (outage !== s3Down) await (outage ? s3!.stop() : s3!.restart());
      s3Down = outage;
      const server = await startServer({ dir, args, env });
      let stop = false;
      const load = [
        ...FORMATS.map((format, k) =>
          pusher(server, format, encoders[k], cycle, rng.u32(), () => stop, (lines) => {
            report.pushes[format]++;
            for (const l of lines) acknowledged.add(l);
          }, fault)
        ),
        querier(server, () => stop, () => report.queries++, fault),
      ];
      const lifetime = 300 + rng.below(1200);
      await new Promise((r) => setTimeout(r, lifetime));
      await server.kill();
      stop = true;
      await Promise.all(load);
      if (options.damageEvery > 0 && (cycle + 1) % options.damageEvery === 0) {
        const kind = DAMAGE[(report.damage.length) % DAMAGE.length];
        const damage = await damageFolder(dir, kind, rng, cycle);
        if (damage) report.damage.push(damage);
      }
      log(
        `cycle ${cycle + 1}/${options.cycles}${
          outage ? " (S3 down)" : ""
        }: killed after ${lifetime} ms; ${acknowledged.size} lines acknowledged so far${
          report.damage.at(-1)?.cycle === cycle
            ? `; damage: ${report.damage.at(-1)!.kind} (${report.damage.at(-1)!.what})`
            : ""
        }`,
      );
    }
    if (s3Down) await s3!.restart();
    const last = await startServer({ dir, args, env });
    const code = await last.stop();
    if (code !== 0) throw new Error(`the last clean stop exited with ${code}: ${last.stderr()}`);
    report.walLeft = (await Array.fromAsync(Deno.readDir(`${dir}/wal`))).length;
    const counts = new Map<string, number>();
    const readers: Record<string, LocationReader> = s3 ? { [REMOTE]: s3FolderReader(s3) } : {};
    for (const { line } of await storedLines(dir, readers)) {
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
    const catalog = await Catalog.open(dir);
    report.remoteSegments = [...catalog.entries()].filter((e) => e.location === REMOTE).length;
    catalog.close();
    report.acknowledged = acknowledged.size;
    for (const [line, n] of counts) {
      if (n > 1) {
        report.duplicated += n - 1;
        if (report.examples.length < 10) report.examples.push(`stored ${n} times: ${line}`);
      }
    }
    const lost = [...acknowledged].filter((l) => !counts.has(l));
    report.lost = lost.length;
    const unexplained = lost.filter((l) => !report.damage.some((d) => d.lines?.has(l)));
    const mayDestroy = report.damage.reduce((n, d) => n + d.mayDestroy, 0);
    report.lostToDamage = report.lost - unexplained.length +
      Math.min(unexplained.length, mayDestroy);
    if (report.lost > report.lostToDamage) {
      report.examples.push(...unexplained.slice(0, 5).map((l) => `lost: ${l}`));
    }
    return report;
  } finally {
    await s3?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Pushes `format` until stopped; each acknowledged push's lines go to `stored`. */
async function pusher(
  server: TestServer,
  format: PushFormat,
  encoder: PushEncoder,
  cycle: number,
  seed: number,
  stopped: () => boolean,
  stored: (lines: string[]) => void,
  fault: (what: string) => void,
): Promise<void> {
  const rng = new Rng();
  rng.state = seed;
  const url = `${server.url}${encoder.path ?? "/api/v1/push"}`;
  for (let n = 0; !stopped(); n++) {
    const count = 1 + rng.below(MAX_PUSH_LINES);
    const now = BigInt(Date.now()) * 1_000_000n;
    const lines = Array.from({ length: count }, (_, i) => `c${cycle} ${format} p${n} l${i}`);
    // Lines of the last few hours in one push: merges then write a segment per hour (see FAST).
    const values = lines.map((line, i): [string, string] => [
      String(now - BigInt(rng.below(PARTITIONS_SPANNED)) * HOUR_NS + BigInt(i)),
      line,
    ]);
    const body = encoder.encode({ streams: [{ stream: { app: format }, values }] });
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": encoder.contentType },
        body,
      });
    } catch {
      return; // the server is gone: this push was never answered
    }
    const text = await res.text().catch(() => "");
    if (res.status >= 500) fault(`${format} push: ${res.status} ${text.slice(0, 200)}`);
    else if (res.status === 200 || res.status === 204) stored(lines);
    else fault(`${format} push refused: ${res.status} ${text.slice(0, 200)}`);
  }
}

/** Queries until stopped. */
async function querier(
  server: TestServer,
  stopped: () => boolean,
  answered: () => void,
  fault: (what: string) => void,
): Promise<void> {
  for (let n = 0; !stopped(); n++) {
    const q = QUERIES[n % QUERIES.length];
    let res: Response;
    try {
      res = await fetch(`${server.url}${q.path}`, {
        method: q.body ? "POST" : "GET",
        headers: q.body ? { "content-type": "application/json" } : {},
        body: q.body && JSON.stringify(q.body),
      });
    } catch {
      return;
    }
    const text = await res.text().catch(() => "");
    if (res.status >= 500) fault(`query ${q.path}: ${res.status} ${text.slice(0, 200)}`);
    else answered();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Damages the stopped folder `dir` as `kind` says; none when there is nothing of that kind. */
async function damageFolder(
  dir: string,
  kind: DamageKind,
  rng: Rng,
  cycle: number,
): Promise<Damage | undefined> {
  if (kind === "torn WAL tail") {
    const wal = (await Array.fromAsync(Deno.readDir(`${dir}/wal`)))
      .map((e) => e.name).filter((n) => n.endsWith(".wal")).sort((a, b) =>
        Number(a.slice(0, -4)) - Number(b.slice(0, -4))
      );
    const newest = wal.at(-1);
    if (newest === undefined) return undefined;
    const path = `${dir}/wal/${newest}`;
    const { size } = await Deno.stat(path);
    if (size === 0) return undefined;
    const cut = 1 + rng.below(Math.min(20, size));
    await Deno.truncate(path, size - cut);
    // Only the last record is torn: at most one push's lines.
    return { cycle, kind, what: `wal/${newest} cut by ${cut} bytes`, mayDestroy: MAX_PUSH_LINES };
  }
  if (kind === "flipped catalog byte") {
    const path = `${dir}/catalog.sqlite`;
    const bytes = await Deno.readFile(path);
    if (bytes.length < 200) return undefined;
    // Past SQLite's 100-byte header: a page of rows, an index or free space.
    const at = 100 + rng.below(bytes.length - 100);
    bytes[at] ^= 1 << rng.below(8);
    await Deno.writeFile(path, bytes);
    // The catalog is rebuilt from the files when it cannot be read: nothing is lost.
    return { cycle, kind, what: `catalog.sqlite byte ${at} flipped`, mayDestroy: 0 };
  }
  const catalog = await Catalog.open(dir);
  try {
    const entries = [...catalog.entries()].filter((e) => e.location === LOCAL && e.level === 1);
    if (entries.length === 0) return undefined;
    const entry = entries[rng.below(entries.length)];
    // Its tail holds its index, which names each block's stream: its lines go with it.
    const lines = new Set((await entryLines(catalog, entry)).map((l) => l.line));
    const path = `${dir}/${entry.name}`;
    const { size } = await Deno.stat(path);
    const cut = 1 + rng.below(Math.min(4096, size - 1));
    await Deno.truncate(path, size - cut);
    return {
      cycle,
      kind,
      what: `${entry.name} (${lines.size} lines) cut by ${cut} bytes`,
      lines,
      mayDestroy: 0,
    };
  } finally {
    catalog.close();
  }
}

/** A report as lines of text. */
export function formatChaos(r: ChaosReport): string {
  const pushes = Object.entries(r.pushes).map(([f, n]) => `${f} ${n}`).join(", ");
  return [
    `cycles: ${r.cycles}`,
    `pushes acknowledged: ${pushes}`,
    `lines acknowledged: ${r.acknowledged}`,
    `lost: ${r.lost} (${r.lostToDamage} destroyed by the damage: lines of truncated files, a push per torn WAL tail at most)`,
    `stored twice: ${r.duplicated}`,
    `5xx answers: ${r.answers5xx}; queries answered: ${r.queries}`,
    `WAL segments left after the clean stop: ${r.walLeft}; segments in S3: ${r.remoteSegments}`,
    `damage: ${
      r.damage.map((d) => `cycle ${d.cycle + 1} ${d.kind} (${d.what})`).join("; ") || "none"
    }`,
    ...r.examples.map((e) => `  ${e}`),
  ].join("\n");
}

/** Whether a report shows no defect: nothing lost beyond the damage, nothing twice, no 5xx. */
export function chaosPassed(r: ChaosReport): boolean {
  return r.lost === r.lostToDamage && r.duplicated === 0 && r.answers5xx === 0 &&
    r.walLeft === 0 && r.acknowledged > 0;
}

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(
      `invalid value ${JSON.stringify(args[at + 1])} for ${name}: expected a whole number`,
    );
    Deno.exit(2);
  }
  return value;
}

/** `--s3-outage-every`: 0, or more cycles than an outage lasts. */
function outageEvery(): number {
  const every = flag(Deno.args, "--s3-outage-every", 0);
  if (every > 0 && every <= OUTAGE_CYCLES) {
    console.error(
      `invalid value ${every} for --s3-outage-every: expected 0 (no outage) or more than ${OUTAGE_CYCLES}, the cycles an outage lasts`,
    );
    Deno.exit(2);
  }
  return every;
}

if (import.meta.main) {
  const report = await runChaos({
    cycles: flag(Deno.args, "--cycles", 50),
    damageEvery: flag(Deno.args, "--damage-every", 5),
    seed: flag(Deno.args, "--seed", Date.now() % 1_000_000),
    s3: !Deno.args.includes("--no-s3"),
    s3OutageEvery: outageEvery(),
    log: (line) => console.error(line),
  });
  console.log(formatChaos(report));
  Deno.exit(chaosPassed(report) ? 0 : 1);
}
