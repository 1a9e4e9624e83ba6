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
  output: { kind: "enum", default: "text", values: ["text", "json"], help: "output format" },
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
  const { flags, positionals, help } = parseFlags(args, SEARCH_FLAGS);
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
  const ask = async (path: string, init: RequestInit) => {
    let res: Response;
    try {
      res = await fetch(`${addr}${path}`, { ...init, headers: { ...headers, ...init.headers } });
    } catch (error) {
      throw new SearchError(`cannot reach loge at ${addr}: ${connectionReason(error)}`);
    }
    const text = await res.text();
    let parsed: { status?: string; error?: string; data?: Entry[]; warnings?: unknown };
    try {
      // Nanosecond times are exact: "timestamp" numbers become bigints.
      parsed = JSON.parse(
        text,
        (key, value, ctx?: { source?: string }) =>
          key === "timestamp" && typeof value === "number" && ctx?.source
            ? BigInt(ctx.source)
            : value,
      );
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
    const body = `{"query":${
      JSON.stringify(selector)
    },"start":${start},"end":${end},"limit":${flags.limit},"direction":"${flags.direction}"}`;
    const answer = await ask("/api/v1/query", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    entries = answer.data ?? [];
    warnings = Array.isArray(answer.warnings) ? answer.warnings.map(String) : [];
  }
  // A partial answer (unreadable segments skipped) says so, apart from the lines.
  for (const w of warnings) console.error(`loge: warning: ${w}`);
  const color = flags.output === "text" && Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [];
  for (const e of entries) {
    if (flags.output === "json") {
      out.push(
        `{"timestamp":${e.timestamp},"time":${JSON.stringify(formatTime(e.timestamp))},"labels":${
          JSON.stringify(e.labels)
        },"line":${JSON.stringify(e.line)}${
          e.metadata ? `,"metadata":${JSON.stringify(e.metadata)}` : ""
        }}`,
      );
    } else {
      const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(
        ", ",
      );
      out.push(`${paint(2, formatTime(e.timestamp))} ${paint(36, `{${labels}}`)} ${e.line}`);
    }
  }
  if (out.length > 0) await Deno.stdout.write(new TextEncoder().encode(out.join("\n") + "\n"));
}
