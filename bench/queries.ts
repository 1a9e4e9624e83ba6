/**
 * The queries the benchmark times, their targets, the baseline commands that do the same work on
 * the raw corpus files, and the clients of `POST /api/v1/query` and of Loki's `query_range`.
 *
 * - `needle`: `|= "<trace id>"`, no time bound; one line matches. Baselines: `rg -F <trace id>`,
 *   `grep -F`, `zstd -dc | rg -F` over `lines.txt`, whole file.
 * - `common`: `|= "timeout"`, limit 100, no time bound. Baselines: `-F -m 100 timeout`.
 * - `label`: `{app="web"}`, limit 100, the last 5 minutes. Baselines: `-F -m 100 '"app":"web"'`
 *   over `corpus.ndjson`.
 * - `regex`: `{app=~"web|api"}` with the line regex {@linkcode STATUS_5XX} (5xx access lines),
 *   limit 100. Baselines: `rg -m 100 -e <regex>`, `grep -E -m 100 -e <regex>`.
 * - `jsonTrace`: `{app=~".+"} | json | trace_id="<trace id>"`, no time bound, with the trace id
 *   of a JSON line (the first at or after the needle's index; access lines carry theirs as
 *   `trace_id=…` text, which `| json` cannot parse); one line matches. Baselines: `rg -F <id>`.
 * - `jsonStatus`: `{app="web", service="frontend"} | json | status >= 500`, limit 100. The
 *   generator writes a numeric `status` only in JSON lines of service `frontend` (app `web`): the
 *   JSON lines of app `api` (service `users`) have none, and its access lines would pass the
 *   comparison with `__error__="JSONParserErr"` as in Loki (so would `{app="web"}`'s nginx lines).
 *   Baselines: `rg -m 100 -e '"status":5[0-9]{2}'` over `lines.txt` (no other line has the field).
 *
 * Labels are not in `lines.txt`, so the label query's baselines search `corpus.ndjson`, where
 * each line carries its labels. With `-m 100` the tools stop at the first (oldest) 100 matches,
 * while loge answers the newest 100: the same amount of output, found from the other end.
 *
 * The cold-tier phase times two of them again, without baselines, on the corpus rotated to S3
 * ({@linkcode COLD_QUERIES}): the needle, and `{app="web"}` limit 100 over the last hour.
 *
 * Two metric queries ({@linkcode METRIC_QUERIES}) go through Loki's `GET
 * /loki/api/v1/query_range` over the hour before the corpus' end, one step a minute: the log
 * volume by level of app `web`, and the rate of `timeout` lines over every app. Their answers are
 * checked against sums computed from the corpus.
 *
 * @module
 */

import type { BaselineCommand } from "./baselines.ts";
import type { LogGenerator } from "./generator/mod.ts";

/** `limit` of every query. */
export const QUERY_LIMIT = 100;

/** Width of the label query's window: 5 minutes, in nanoseconds. */
export const WINDOW_NS = 5n * 60n * 1_000_000_000n;

/** Width of the cold-tier label query's window: an hour, in nanoseconds. */
export const HOUR_NS = 60n * 60n * 1_000_000_000n;

/** The line regex of the `regex` query: the status field of 5xx access lines. */
export const STATUS_5XX = `" 5[0-9]{2} `;

/** The line regex of the `jsonStatus` baselines: a JSON `status` field of 500–599. */
export const STATUS_FIELD_5XX = `"status":5[0-9]{2}`;

/** The stream selector and pipeline of the `jsonStatus` query. */
export const JSON_STATUS_QUERY = `{app="web", service="frontend"} | json | status >= 500`;

/** A query's identity and targets. */
export interface QueryInfo {
  /** Key in the JSON figures. */
  key: string;
  /** What it is, for the table. */
  title: string;
  /** Target on the p50 latency, in milliseconds. */
  targetP50Ms?: number;
  /** Target on the speedup over the first baseline (`rg`). */
  targetSpeedup?: number;
}

/** The queries, in report order. */
export const QUERIES: readonly QueryInfo[] = [
  {
    key: "needle",
    title: "needle trace id, no time bound",
    targetP50Ms: 50,
    targetSpeedup: 5,
  },
  { key: "common", title: `|= "timeout", limit ${QUERY_LIMIT}`, targetP50Ms: 50 },
  { key: "label", title: `{app="web"}, limit ${QUERY_LIMIT}, last 5 minutes`, targetP50Ms: 20 },
  { key: "regex", title: `regex |~ \`${STATUS_5XX}\` on {app=~"web|api"}, limit ${QUERY_LIMIT}` },
  {
    key: "jsonTrace",
    title: `{app=~".+"} | json | trace_id="<a JSON line's>", no time bound`,
    targetP50Ms: 50,
  },
  { key: "jsonStatus", title: `${JSON_STATUS_QUERY}, limit ${QUERY_LIMIT}`, targetP50Ms: 50 },
];

/** A query's time window: none, or the 5 minutes or the hour before the request. */
export type QueryWindow = "all" | "last5m" | "last1h";

/** How the report names each {@linkcode QueryWindow}. */
export const WINDOW_TITLES: Readonly<Record<QueryWindow, string>> = {
  all: "no time bound",
  last5m: "last 5 minutes",
  last1h: "last hour",
};

/** A query of the cold-tier phase: its identity and targets. */
export interface ColdQueryInfo extends QueryInfo {
  /** Target on the bytes the first (cold) run fetches, as a fraction of the remote bytes. */
  maxColdFetchedFraction?: number;
}

/**
 * The queries of the cold-tier phase (the corpus rotated to S3, a restart, no index cached), in
 * report order. Their targets are those of the cold tier's issue.
 */
export const COLD_QUERIES: readonly ColdQueryInfo[] = [
  {
    key: "needle",
    title: "needle trace id, no time bound",
    targetP50Ms: 300,
    maxColdFetchedFraction: 0.02,
  },
  { key: "label", title: `{app="web"}, limit ${QUERY_LIMIT}, last hour`, targetP50Ms: 200 },
];

/** A query of the cold-tier phase with its request and what a correct answer holds. */
export interface ColdQuerySpec extends ColdQueryInfo {
  /** LogQL. */
  query: string;
  window: QueryWindow;
  /** Lines in a correct answer. */
  expectHits: number;
  /** Text that must be in the first answered line, if any. */
  expectText?: string;
}

/**
 * The queries of the cold-tier phase on a corpus whose needle trace id is `needle` and whose
 * last line is stamped at the start of the run (so that its last hour holds far more than
 * {@linkcode QUERY_LIMIT} lines of app `web`).
 *
 * @example
 * ```ts
 * import { coldQuerySpecs } from "./queries.ts";
 * console.log(coldQuerySpecs("ab12").map((s) => s.query)); // ['|= "ab12"', '{app="web"}']
 * ```
 */
export function coldQuerySpecs(needle: string): ColdQuerySpec[] {
  const info = (key: string) => COLD_QUERIES.find((q) => q.key === key)!;
  return [
    {
      ...info("needle"),
      query: `|= "${needle}"`,
      window: "all",
      expectHits: 1,
      expectText: needle,
    },
    { ...info("label"), query: `{app="web"}`, window: "last1h", expectHits: QUERY_LIMIT },
  ];
}

/** One baseline of a query. */
export interface BaselineSpec {
  /** Name in the report, e.g. `rg -F`. */
  name: string;
  /** The command; tools by bare name. */
  command: BaselineCommand;
  /** Tools it needs. */
  tools: string[];
}

/** A query with its request and baselines. */
export interface QuerySpec extends QueryInfo {
  /** LogQL. */
  query: string;
  /** `all`: no time bound; `last5m`, `last1h`: the 5 minutes or the hour before the request. */
  window: QueryWindow;
  /** Lines in a correct answer. */
  expectHits: number;
  /** Text that must be in the first answered line, if any. */
  expectText?: string;
  /** Text that must be in the last answered line, if any. */
  expectLastText?: string;
  /** The baselines, `rg` first. */
  baselines: BaselineSpec[];
  /** How the baselines differ from the query, if they do. */
  note?: string;
}

/** The corpus files the baselines read. */
export interface CorpusFiles {
  /** Raw lines, one per line. */
  lines: string;
  /** NDJSON lines with labels. */
  ndjson: string;
  /** `zstd -3` of {@linkcode CorpusFiles.lines}. */
  linesZst: string;
  /** `zstd -3` of {@linkcode CorpusFiles.ndjson}. */
  ndjsonZst: string;
}

/** What the pipeline queries must answer, computed from the corpus. */
export interface PipelineExpectations {
  /** The trace id of a JSON line (in its `trace_id` field): the first at or after the needle. */
  jsonTraceId: string;
  /** The `jsonStatus` query's answer: its lines, and the trace ids of its newest and oldest. */
  status: { hits: number; newest: string; oldest: string };
}

/**
 * The answers of the pipeline queries on the corpus of `lines` lines that `gen` generates, whose
 * needle is line `needleIndex`. Scans from the newest line back until the status query's answer
 * is full (about 0.1% of lines match).
 *
 * @example
 * ```ts
 * import { LogGenerator } from "./generator/mod.ts";
 * import { pipelineExpectations } from "./queries.ts";
 * const e = pipelineExpectations(new LogGenerator({ seed: 42 }), 50_000, 20_000);
 * console.log(e.jsonTraceId, e.status.hits);
 * ```
 * @throws {Error} If the corpus has no JSON line at or after the needle, or no 5xx status line.
 */
export function pipelineExpectations(
  gen: LogGenerator,
  lines: number,
  needleIndex: number,
): PipelineExpectations {
  let jsonTraceId: string | undefined;
  for (let i = needleIndex; i < lines && jsonTraceId === undefined; i++) {
    const { line } = gen.at(i);
    if (line.startsWith("{") && JSON.parse(line).trace_id === gen.traceIdAt(i)) {
      jsonTraceId = gen.traceIdAt(i);
    }
  }
  if (jsonTraceId === undefined) throw new Error("no JSON line at or after the needle");
  const matches: number[] = [];
  for (let i = lines - 1; i >= 0 && matches.length < QUERY_LIMIT; i--) {
    const { labels, line } = gen.at(i);
    if (labels.app !== "web" || labels.service !== "frontend" || !line.startsWith("{")) continue;
    const status = JSON.parse(line).status;
    if (typeof status === "number" && status >= 500) matches.push(i);
  }
  if (matches.length === 0) throw new Error("no JSON line of service frontend has a 5xx status");
  return {
    jsonTraceId,
    status: {
      hits: matches.length,
      newest: gen.traceIdAt(matches[0]),
      oldest: gen.traceIdAt(matches.at(-1)!),
    },
  };
}

/** `rg`, `grep` and `zstd -dc | rg` with the same arguments (`-E` added to grep's for `-e`). */
function threeTools(args: string[], file: string, zfile: string): BaselineSpec[] {
  const grepArgs = args.includes("-e") ? ["-E", ...args] : args;
  const flags = (argv: string[]) => argv.filter((a) => a.startsWith("-") || /^\d+$/.test(a));
  return [
    { name: `rg ${flags(args).join(" ")}`, command: ["rg", ...args, file], tools: ["rg"] },
    {
      name: `grep ${flags(grepArgs).join(" ")}`,
      command: ["grep", ...grepArgs, file],
      tools: ["grep"],
    },
    {
      name: `zstd -dc | rg ${flags(args).join(" ")}`,
      command: [["zstd", "-dc", zfile], ["rg", ...args]],
      tools: ["zstd", "rg"],
    },
  ];
}

/**
 * The timed queries of a corpus whose needle trace id is `needle`.
 *
 * @example
 * ```ts
 * import { querySpecs } from "./queries.ts";
 * const files = { lines: "l", ndjson: "n", linesZst: "l.zst", ndjsonZst: "n.zst" };
 * const pipeline = { jsonTraceId: "cd34", status: { hits: 100, newest: "ef56", oldest: "0a78" } };
 * console.log(querySpecs("ab12", files, pipeline)[0].baselines[0].command);
 * // ["rg", "-F", "ab12", "l"]
 * ```
 */
export function querySpecs(
  needle: string,
  files: CorpusFiles,
  pipeline: PipelineExpectations,
): QuerySpec[] {
  const info = (key: string) => QUERIES.find((q) => q.key === key)!;
  const m = String(QUERY_LIMIT);
  return [
    {
      ...info("needle"),
      query: `|= "${needle}"`,
      window: "all",
      expectHits: 1,
      expectText: needle,
      baselines: threeTools(["-F", needle], files.lines, files.linesZst),
    },
    {
      ...info("common"),
      query: `|= "timeout"`,
      window: "all",
      expectHits: QUERY_LIMIT,
      baselines: threeTools(["-F", "-m", m, "timeout"], files.lines, files.linesZst),
      note: "the baselines stop at the oldest 100 matches; loge answers the newest 100",
    },
    {
      ...info("label"),
      query: `{app="web"}`,
      window: "last5m",
      expectHits: QUERY_LIMIT,
      baselines: threeTools(["-F", "-m", m, `"app":"web"`], files.ndjson, files.ndjsonZst),
      note: "labels are not in lines.txt: the baselines search corpus.ndjson (lines with " +
        "labels) for the oldest 100 lines of app web, without a time bound",
    },
    {
      ...info("regex"),
      query: `{app=~"web|api"} |~ \`${STATUS_5XX}\``,
      window: "all",
      expectHits: QUERY_LIMIT,
      baselines: threeTools(["-m", m, "-e", STATUS_5XX], files.lines, files.linesZst),
      note: "only access lines (apps web and api) have a quoted request followed by a status; " +
        "the baselines scan every line, oldest first",
    },
    {
      ...info("jsonTrace"),
      query: `{app=~".+"} | json | trace_id="${pipeline.jsonTraceId}"`,
      window: "all",
      expectHits: 1,
      expectText: pipeline.jsonTraceId,
      baselines: threeTools(["-F", pipeline.jsonTraceId], files.lines, files.linesZst),
      note: "the baselines search the trace id as text, anywhere in any line",
    },
    {
      ...info("jsonStatus"),
      query: JSON_STATUS_QUERY,
      window: "all",
      expectHits: pipeline.status.hits,
      expectText: pipeline.status.newest,
      expectLastText: pipeline.status.oldest,
      baselines: threeTools(["-m", m, "-e", STATUS_FIELD_5XX], files.lines, files.linesZst),
      note: "only JSON lines of service frontend (app web) have a status field; the baselines " +
        "match it as text in every line, oldest first",
    },
  ];
}

/**
 * The JSON body of `POST /api/v1/query` for `spec`; `nowMs` ends the window of `last5m` and
 * `last1h` (the bench passes the corpus' end: the phases before the queries take minutes).
 *
 * @example
 * ```ts
 * import { queryBody } from "./queries.ts";
 * const body = queryBody({ query: "{app=\"web\"}", window: "last5m" }, 1_000_000);
 * console.log(body.start, body.end); // 700000000000 1000000000000
 * ```
 */
export function queryBody(
  spec: Pick<QuerySpec, "query" | "window">,
  nowMs: number = Date.now(),
): Record<string, unknown> {
  const body: Record<string, unknown> = { query: spec.query, limit: QUERY_LIMIT };
  if (spec.window !== "all") {
    const end = BigInt(Math.round(nowMs)) * 1_000_000n;
    body.start = (end - (spec.window === "last1h" ? HOUR_NS : WINDOW_NS)).toString();
    body.end = end.toString();
  }
  return body;
}

/** An answer of the read API. */
export interface QueryAnswer {
  /** Round trip: request sent to response body parsed, in milliseconds. */
  ms: number;
  /** Lines answered. */
  hits: number;
  /** The first line, or `undefined` if none. */
  firstLine?: string;
  /** The last line, or `undefined` if none. */
  lastLine?: string;
}

/**
 * Sends one query and times it, including reading and parsing the answer.
 *
 * @throws {Error} On a non-2xx status or an answer that is not `{"status":"success","data":[…]}`.
 */
export async function runQuery(url: string, body: Record<string, unknown>): Promise<QueryAnswer> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: { status?: unknown; data?: { line?: unknown }[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // Reported below.
  }
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`POST /api/v1/query: HTTP ${res.status}: ${text.slice(0, 300)}`);
  if (json?.status !== "success" || !Array.isArray(json.data)) {
    throw new Error(`POST /api/v1/query: unexpected answer ${text.slice(0, 300)}`);
  }
  const first = json.data[0]?.line;
  const last = json.data.at(-1)?.line;
  return {
    ms,
    hits: json.data.length,
    firstLine: first === undefined ? undefined : String(first),
    lastLine: last === undefined ? undefined : String(last),
  };
}

/** A metric query the benchmark times through Loki's `query_range`: its identity and target. */
export interface MetricQueryInfo {
  /** Key in the JSON figures. */
  key: string;
  /** What it is, for the table. */
  title: string;
  /** Target on the p50 latency, in milliseconds. */
  targetP50Ms: number;
}

/** Step of the metric queries: one minute, in nanoseconds. */
export const METRIC_STEP_NS = 60n * 1_000_000_000n;

/** The metric queries (issue 10), in report order; each over the hour before the corpus' end. */
export const METRIC_QUERIES: readonly MetricQueryInfo[] = [
  {
    key: "volumeByLevel",
    title: `sum by (level) (count_over_time({app="web"}[1m])), last hour, step 1m`,
    targetP50Ms: 300,
  },
  {
    key: "timeoutRate",
    title: `sum(rate({app=~".+"} |= "timeout" [5m])), last hour, step 1m`,
    targetP50Ms: 1000,
  },
];

/** A metric query with its request and what a correct answer holds. */
export interface MetricQuerySpec extends MetricQueryInfo {
  /** LogQL. */
  query: string;
  /** The range of its range aggregation, in nanoseconds. */
  rangeNs: bigint;
  /** Whether its samples are per second (rates): times the range in seconds, they are lines. */
  perSecond: boolean;
  /** Series in a correct answer. */
  expectSeries: number;
  /**
   * The sum of every sample of a correct answer, in lines: counts as they are, rates times the
   * range in seconds.
   */
  expectLines: number;
}

/**
 * The metric queries over the hour before `endNs` of the corpus of `lines` lines that `gen`
 * generates, with their answers computed from the corpus: a line at `ts` counts once in every
 * step `t` with `t - range < ts ≤ t` (Loki's windows), the steps being `end - 1h + k·1m` up to
 * `end`.
 *
 * @example
 * ```ts
 * import { LogGenerator } from "./generator/mod.ts";
 * import { metricQuerySpecs } from "./queries.ts";
 * const gen = new LogGenerator({ seed: 42 });
 * const specs = metricQuerySpecs(gen, 20_000, gen.at(19_999).ts);
 * console.log(specs.map((s) => [s.key, s.expectSeries, s.expectLines]));
 * ```
 */
export function metricQuerySpecs(
  gen: LogGenerator,
  lines: number,
  endNs: bigint,
): MetricQuerySpec[] {
  const start = endNs - HOUR_NS;
  const steps = HOUR_NS / METRIC_STEP_NS;
  /** Steps whose window of `range` holds a line at `ts`. */
  const windowsOf = (ts: bigint, range: bigint): number => {
    if (ts > endNs || ts <= start - range) return 0;
    const ceil = (n: bigint) => (n <= 0n ? 0n : (n + METRIC_STEP_NS - 1n) / METRIC_STEP_NS);
    const first = ceil(ts - start);
    const last = ceil(ts + range - start) - 1n;
    const n = (last < steps ? last : steps) - first + 1n;
    return n > 0n ? Number(n) : 0;
  };
  const minute = METRIC_STEP_NS;
  const fiveMinutes = 5n * METRIC_STEP_NS;
  const levels = new Set<string>();
  let webLines = 0;
  let timeouts = 0;
  for (let i = lines - 1; i >= 0; i--) {
    const { ts, labels, line } = gen.at(i);
    if (ts <= start - fiveMinutes) break;
    const inMinute = windowsOf(ts, minute);
    if (labels.app === "web" && inMinute > 0) {
      webLines += inMinute;
      levels.add(labels.level);
    }
    if (line.includes("timeout")) timeouts += windowsOf(ts, fiveMinutes);
  }
  const info = (key: string) => METRIC_QUERIES.find((q) => q.key === key)!;
  return [
    {
      ...info("volumeByLevel"),
      query: `sum by (level) (count_over_time({app="web"}[1m]))`,
      rangeNs: minute,
      perSecond: false,
      expectSeries: levels.size,
      expectLines: webLines,
    },
    {
      ...info("timeoutRate"),
      query: `sum(rate({app=~".+"} |= "timeout" [5m]))`,
      rangeNs: fiveMinutes,
      perSecond: true,
      expectSeries: timeouts > 0 ? 1 : 0,
      expectLines: timeouts,
    },
  ];
}

/**
 * The parameters of `GET /loki/api/v1/query_range` for `spec`: the hour before `endNs`, one
 * step a minute.
 *
 * @example
 * ```ts
 * import { metricQueryParams } from "./queries.ts";
 * const params = metricQueryParams({ query: "vector(1)" }, 7_200_000_000_000n);
 * console.log(params.get("start"), params.get("step")); // 3600000000000 60
 * ```
 */
export function metricQueryParams(
  spec: Pick<MetricQuerySpec, "query">,
  endNs: bigint,
): URLSearchParams {
  return new URLSearchParams({
    query: spec.query,
    start: String(endNs - HOUR_NS),
    end: String(endNs),
    step: String(METRIC_STEP_NS / 1_000_000_000n),
  });
}

/** An answer of a metric query. */
export interface MetricAnswer {
  /** Round trip: request sent to response body parsed, in milliseconds. */
  ms: number;
  /** Series answered. */
  series: number;
  /** Samples answered, over every series. */
  points: number;
  /** The sum of every sample, times the range in seconds for a rate: lines. */
  lines: number;
}

/**
 * Sends one metric query to `/loki/api/v1/query_range` and times it, including reading and
 * parsing the answer.
 *
 * @throws {Error} On a non-2xx status or an answer that is not a Loki matrix.
 */
export async function runMetricQuery(
  url: string,
  spec: Pick<MetricQuerySpec, "query" | "rangeNs" | "perSecond">,
  endNs: bigint,
): Promise<MetricAnswer> {
  const t0 = performance.now();
  const res = await fetch(`${url}/loki/api/v1/query_range?${metricQueryParams(spec, endNs)}`);
  const text = await res.text();
  let json: { status?: unknown; data?: { resultType?: unknown; result?: unknown } } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // Reported below.
  }
  const ms = performance.now() - t0;
  const what = "GET /loki/api/v1/query_range";
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const result = json?.data?.result;
  if (json?.status !== "success" || json.data?.resultType !== "matrix" || !Array.isArray(result)) {
    throw new Error(`${what}: unexpected answer ${text.slice(0, 300)}`);
  }
  const perLine = spec.perSecond ? Number(spec.rangeNs) / 1e9 : 1;
  let points = 0;
  let lines = 0;
  for (const series of result as { values: [number, string][] }[]) {
    points += series.values.length;
    for (const [, value] of series.values) lines += Number(value) * perLine;
  }
  return { ms, series: result.length, points, lines: Math.round(lines) };
}
