/**
 * `loge search`: queries a running server with a LogQL selector and prints
 * the lines, newest first (or oldest first). With `--local`, the server
 * reads only its hot tier and this machine the cold segments
 * (`search_local.ts`).
 *
 * @module
 */

import { LogQLParseError, parseLogQL } from "../query/logql.ts";
import { flagHelp, type FlagSpec, parseFlags, UsageError } from "./flags.ts";
import { formatTime, parseTime } from "../time.ts";
import type { Direction } from "../query/engine.ts";
import { searchLocal } from "./search_local.ts";

/** The flags of `loge search`. */
export const SEARCH_FLAGS = {
  addr: {
    kind: "string",
    default: "http://localhost:3000",
    help: "base URL of the running loge server",
  },
  since: { kind: "duration", default: "", help: "relative window start, e.g. 1h, 30m (from now)" },
  until: { kind: "duration", default: "", help: "relative window end, e.g. 5m (that long ago)" },
  start: {
    kind: "string",
    default: "",
    help: "absolute window start: RFC3339 or unix ns (overrides --since)",
  },
  end: {
    kind: "string",
    default: "",
    help: "absolute window end: RFC3339 or unix ns (overrides --until)",
  },
  limit: { kind: "int", default: "100", help: "max results (the server caps at 5000)" },
  direction: {
    kind: "enum",
    default: "backward",
    values: ["backward", "forward"],
    help: "which lines come first: backward is newest first, forward oldest first",
  },
  output: {
    kind: "enum",
    default: "text",
    values: ["text", "json", "ndjson"],
    help:
      "text; json (a line of JSON per entry); ndjson: json for any number of lines, paging through the window (--limit caps it only when given)",
  },
  follow: {
    kind: "bool",
    default: "false",
    help:
      "after the window's lines, print new lines as they arrive (a live tail) until interrupted",
  },
  "api-key": {
    kind: "string",
    default: "",
    env: "LOGE_API_KEY",
    help: "bearer token for a server run with --api-key",
  },
  local: {
    kind: "bool",
    default: "false",
    help: "read the cold (S3) segments on this machine; the server only reads its hot tier",
  },
  concurrency: {
    kind: "int",
    default: "4",
    help: "with --local: cold segments opened and blocks read at once",
  },
  "frame-cache-size": {
    kind: "int",
    default: "512",
    min: 0,
    help: "with --local: decoded blocks of cold segments kept in memory",
  },
} satisfies Record<string, FlagSpec>;

/** Help text of `loge search`. */
export const SEARCH_HELP = `Usage: loge search '<selector>' [flags]

Queries a running loge server. The selector is LogQL: stream matchers in
{ } (=, !=, =~, !~) and line filters (|=, !=, |~, !~), e.g.

  loge search '{app="web", level=~"err.*"} |= "timeout"' --since 1h
  loge search '|= "panic"' --output json
  loge search '{app="web"}' --since 24h --output ndjson > web.ndjson   # every line
  loge search '{app="web"} |= "error"' --follow                       # live

With --local, the server answers over its hot tier only and hands out
presigned URLs of the cold (S3) segments that may hold lines; this machine
reads them itself (ranged GETs, the same engine as the server's) and prints
the same answer, sparing the server the scan of old data.

Exit status: 0 on success, 1 on a server or connection error, 2 on a usage error.

Flags:
${flagHelp(SEARCH_FLAGS)}
`;

/** A failure talking to the server: exit status 1. */
export class SearchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SearchError";
  }
}

function bound(absolute: string, relativeMs: number | string, flag: string, now: bigint): bigint {
  if (absolute !== "") {
    const t = parseTime(absolute);
    if (t === undefined) {
      throw new UsageError(
        `invalid value "${absolute}" for --${flag}: expected RFC3339 or unix nanoseconds`,
      );
    }
    return t;
  }
  return typeof relativeMs === "number" ? now - BigInt(Math.round(relativeMs * 1e6)) : 0n;
}

function connectionReason(error: unknown): string {
  let message = "";
  for (
    let e = error as { message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    message += ` ${e.message ?? e}`;
  }
  if (/connection refused/i.test(message)) return "connection refused";
  if (/dns error|failed to lookup|name or service not known/i.test(message)) return "unknown host";
  return message.trim();
}

interface Entry {
  timestamp: bigint;
  line: string;
  labels: Record<string, string>;
  metadata?: Record<string, string>;
}

/** Runs `loge search`; resolves when every line is printed. */
export async function search(args: string[]): Promise<void> {
  const { flags, sources, positionals, help } = parseFlags(args, SEARCH_FLAGS);
  if (help) return void console.log(SEARCH_HELP);
  if (positionals.length > 1) {
    throw new UsageError(
      `expected one selector, got ${positionals.length} arguments (quote the selector)`,
    );
  }
  const selector = positionals[0] ?? "";
  try {
    parseLogQL(selector);
  } catch (error) {
    if (error instanceof LogQLParseError) throw new UsageError(error.message);
    throw error;
  }
  const now = BigInt(Date.now()) * 1_000_000n;
  const start = bound(flags.start as string, flags.since as number | string, "start", now);
  const end = bound(flags.end as string, flags.until as number | string, "end", now);
  if (start !== 0n && end !== 0n && start > end) {
    throw new UsageError("the window starts after it ends (check --since/--until/--start/--end)");
  }
  const addr = (flags.addr as string).replace(/\/+$/, "");
  try {
    new URL(`${addr}/api/v1/query`);
  } catch {
    throw new UsageError(
      `invalid value "${flags.addr}" for --addr: expected a URL such as http://localhost:3000`,
    );
  }
  const headers: Record<string, string> = {};
  if (flags["api-key"]) headers.authorization = `Bearer ${flags["api-key"]}`;
  const ask: Ask = async (path, init) => {
    let res: Response;
    try {
      res = await fetch(`${addr}${path}`, { ...init, headers: { ...headers, ...init.headers } });
    } catch (error) {
      throw new SearchError(`cannot reach loge at ${addr}: ${connectionReason(error)}`);
    }
    const text = await res.text();
    let parsed: { status?: string; error?: string; data?: Entry[]; warnings?: unknown };
    try {
      parsed = parseEntries(text);
    } catch {
      throw new SearchError(
        `unexpected answer from ${addr} (HTTP ${res.status}): ${text.slice(0, 200)}`,
      );
    }
    if (!res.ok || parsed.status !== "success") {
      throw new SearchError(
        `loge at ${addr} answered ${res.status}: ${parsed.error ?? text.slice(0, 200)}`,
      );
    }
    return parsed;
  };
  const output = flags.output as string;
  const print = printer(output);
  if (flags.follow) {
    if (flags.local) throw new UsageError("--follow tails the server: it does not go with --local");
    return await follow(addr, headers, selector, start === 0n ? now : start, print);
  }
  if (output === "ndjson") {
    if (flags.local) {
      throw new UsageError("--output ndjson pages through the server: it does not go with --local");
    }
    const total = sources.limit === "flag" ? flags.limit as number : Infinity;
    await pageThrough(
      (lo, hi, limit) => queryPage(ask, selector, lo, hi, limit, flags.direction as string),
      { start, end, direction: flags.direction as Direction, total },
      print,
    );
    return;
  }
  let entries: Entry[];
  let warnings: string[];
  if (flags.local) {
    const local = await searchLocal({
      fetchPlan: (params) => ask(`/api/v1/search/plan?${params}`, {}),
      query: selector,
      start,
      end,
      limit: flags.limit as number,
      direction: flags.direction as Direction,
      concurrency: flags.concurrency as number,
      frameCacheSize: flags["frame-cache-size"] as number,
    });
    warnings = local.warnings;
    entries = local.entries.map((e) => ({
      timestamp: e.ts,
      line: e.line,
      labels: e.stream.labels,
      metadata: e.metadata,
    }));
  } else {
    const answer = await queryPage(
      ask,
      selector,
      start,
      end,
      flags.limit as number,
      flags.direction as string,
    );
    entries = answer.data ?? [];
    warnings = Array.isArray(answer.warnings) ? answer.warnings.map(String) : [];
  }
  // A partial answer (unreadable segments skipped) says so, apart from the lines.
  for (const w of warnings) console.error(`loge: warning: ${w}`);
  await print(entries);
}

type Ask = (
  path: string,
  init: RequestInit,
) => Promise<
  { status?: string; error?: string; data?: Entry[]; truncated?: unknown; warnings?: unknown }
>;

/** One `POST /api/v1/query` of the window `[start, end]`. */
function queryPage(
  ask: Ask,
  selector: string,
  start: bigint,
  end: bigint,
  limit: number,
  direction: string,
) {
  return ask("/api/v1/query", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"query":${
      JSON.stringify(selector)
    },"start":${start},"end":${end},"limit":${limit},"direction":"${direction}"}`,
  });
}

/** Writes entries to stdout in `output`'s format: text (coloured on a terminal) or JSON lines. */
function printer(output: string): (entries: readonly Entry[]) => Promise<void> {
  const color = output === "text" && Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const encoder = new TextEncoder();
  return async (entries) => {
    const out: string[] = [];
    for (const e of entries) {
      if (output !== "text") {
        out.push(
          `{"timestamp":${e.timestamp},"time":${JSON.stringify(formatTime(e.timestamp))},"labels":${
            JSON.stringify(e.labels)
          },"line":${JSON.stringify(e.line)}${
            e.metadata ? `,"metadata":${JSON.stringify(e.metadata)}` : ""
          }}`,
        );
      } else {
        const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(", ");
        out.push(`${paint(2, formatTime(e.timestamp))} ${paint(36, `{${labels}}`)} ${e.line}`);
      }
    }
    if (out.length > 0) await Deno.stdout.write(encoder.encode(out.join("\n") + "\n"));
  };
}

/** Lines a page of `--output ndjson` asks for: the server's most. */
export const PAGE_LINES = 5000;

/**
 * Pages through `[start, end]` in `direction`, `total` lines at most: each
 * page starts at the time the last one ended, and skips the lines at that
 * time it already printed (counted by time, labels and text, so lines that
 * repeat are kept as often as they were stored). A page ends the window when
 * it is short of its limit, unless the server says it cut it short
 * (`"truncated": true`, `--max-response-size`).
 *
 * @throws {SearchError} when more lines share one time than a page holds: paging by time cannot pass them.
 */
export async function pageThrough(
  page: (
    lo: bigint,
    hi: bigint,
    limit: number,
  ) => Promise<{ data?: Entry[]; truncated?: unknown; warnings?: unknown }>,
  o: { start: bigint; end: bigint; direction: Direction; total: number },
  print: (entries: readonly Entry[]) => Promise<void>,
): Promise<number> {
  let [lo, hi] = [o.start, o.end];
  /** Printed lines at the time the next page starts at, by key. */
  let atBoundary = new Map<string, number>();
  let boundary: bigint | undefined;
  let printed = 0;
  const progress = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  while (printed < o.total) {
    const answer = await page(lo, hi, PAGE_LINES);
    const data = answer.data ?? [];
    if (Array.isArray(answer.warnings)) {
      for (const w of answer.warnings) console.error(`loge: warning: ${w}`);
    }
    const fresh: Entry[] = [];
    for (const e of data) {
      if (e.timestamp === boundary) {
        const key = entryKey(e);
        const seen = atBoundary.get(key) ?? 0;
        if (seen > 0) {
          atBoundary.set(key, seen - 1);
          continue;
        }
      }
      fresh.push(e);
    }
    const take = fresh.slice(0, o.total - printed);
    await print(take);
    printed += take.length;
    if (progress) await Deno.stderr.write(encoder.encode(`\r${printed} lines`));
    if (data.length < PAGE_LINES && answer.truncated !== true) break;
    if (fresh.length === 0) {
      throw new SearchError(
        `the lines at ${
          formatTime(boundary!)
        } fill a whole answer (${PAGE_LINES} lines, or the server's --max-response-size): paging by time cannot pass them`,
      );
    }
    const last = take.at(-1)!.timestamp;
    // Every printed line at the new boundary, those of earlier pages at it too.
    const next = new Map(last === boundary ? [...atBoundary].filter(([, n]) => n > 0) : []);
    for (const e of take) {
      if (e.timestamp === last) next.set(entryKey(e), (next.get(entryKey(e)) ?? 0) + 1);
    }
    atBoundary = next;
    boundary = last;
    if (o.direction === "backward") hi = last;
    else lo = last;
  }
  if (progress) await Deno.stderr.write(encoder.encode("\r\x1b[K"));
  return printed;
}

function entryKey(e: Entry): string {
  return `${JSON.stringify(e.labels)}\n${e.line}`;
}

/**
 * Prints the lines of a live tail of `selector` from `start` as they arrive
 * (`GET /api/v1/tail`, server-sent events) until the process is stopped.
 *
 * @throws {SearchError} when the server refuses or ends the tail.
 */
async function follow(
  addr: string,
  headers: Record<string, string>,
  selector: string,
  start: bigint,
  print: (entries: readonly Entry[]) => Promise<void>,
): Promise<void> {
  const params = new URLSearchParams({ query: selector, start: String(start) });
  let res: Response;
  try {
    res = await fetch(`${addr}/api/v1/tail?${params}`, { headers });
  } catch (error) {
    throw new SearchError(`cannot reach loge at ${addr}: ${connectionReason(error)}`);
  }
  if (res.status !== 200) {
    throw new SearchError(
      `loge at ${addr} answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
    );
  }
  let buffer = "";
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    for (let end; (end = buffer.indexOf("\n\n")) >= 0;) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      let data = "";
      for (const field of event.split("\n")) {
        if (field.startsWith("event: ")) name = field.slice(7);
        else if (field.startsWith("data: ")) data += field.slice(6);
      }
      if (data === "") continue; // a heartbeat
      const parsed = parseEntries(data);
      if (name === "end") throw new SearchError(`the tail ended: ${parsed.error ?? data}`);
      if (parsed.dropped) {
        console.error(`loge: warning: ${parsed.dropped} lines dropped (too slow)`);
      }
      await print(parsed.entries ?? []);
    }
  }
  throw new SearchError("the server closed the tail");
}

/** JSON with exact nanosecond times: `timestamp` numbers become bigints. */
function parseEntries(
  text: string,
): { entries?: Entry[]; dropped?: number; error?: string; status?: string; data?: Entry[] } {
  return JSON.parse(
    text,
    (key, value, ctx?: { source?: string }) =>
      key === "timestamp" && typeof value === "number" && ctx?.source ? BigInt(ctx.source) : value,
  );
}
