/**
 * Syslog messages (RFC 5424 and RFC 3164) as stored lines: the message is
 * the line; `app` (APP-NAME, or the TAG of RFC 3164), `host`, `facility` and
 * `level` (the severity's name) are labels beside the harvester's; the
 * message's time is the line's (RFC 3164 times have no year or zone: the
 * current year, UTC), else the arrival time.
 *
 * Framing over TCP: octet counting (`<length> <message>`, RFC 6587) when a
 * message starts with a digit, else a message a line.
 *
 * @module
 */

import type { HarvestedLine } from "./batcher.ts";
import { parseTime } from "../time.ts";

const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "security",
  "console",
  "solaris-cron",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];
const SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const RFC5424 =
  /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s;
const RFC3164 = /^<(\d{1,3})>([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) (.*)$/s;

/**
 * The stored line of one syslog message, or why it is not one.
 *
 * @example
 * ```ts
 * import { parseSyslog } from "./syslog.ts";
 * import assert from "node:assert/strict";
 * const m = parseSyslog("<34>1 2026-11-30T10:00:00Z web1 sshd 42 - - Failed password", {}, 0n);
 * assert.deepEqual(m, {
 *   labels: { app: "sshd", host: "web1", facility: "auth", level: "crit" },
 *   ts: 1796032800000000000n,
 *   line: "Failed password",
 * });
 * ```
 */
export function parseSyslog(
  text: string,
  labels: Readonly<Record<string, string>>,
  arrivedNs: bigint,
): HarvestedLine | string {
  const message = text.replace(/[\r\n]+$/, "");
  let pri: number;
  let ts = arrivedNs;
  let host: string;
  let app: string;
  let line: string;
  const m5424 = RFC5424.exec(message);
  if (m5424) {
    pri = Number(m5424[1]);
    if (m5424[2] !== "-") {
      const t = parseTime(m5424[2]);
      if (t === undefined) return `bad RFC 5424 timestamp ${JSON.stringify(m5424[2])}`;
      ts = t;
    }
    host = m5424[3];
    app = m5424[4];
    line = (m5424[8] ?? "").replace(/^\uFEFF/, ""); // a BOM marks UTF-8
  } else {
    const m3164 = RFC3164.exec(message);
    if (!m3164) return "neither RFC 5424 nor RFC 3164";
    pri = Number(m3164[1]);
    const month = MONTHS.indexOf(m3164[2]);
    if (month < 0) return `bad RFC 3164 month ${JSON.stringify(m3164[2])}`;
    const year = new Date().getUTCFullYear();
    const ms = Date.UTC(year, month, +m3164[3], +m3164[4], +m3164[5], +m3164[6]);
    ts = BigInt(ms) * 1_000_000n;
    host = m3164[7];
    // TAG[PID]: message — the tag is the app.
    const tag = /^([^\s:[\]]+)(?:\[[^\]]*\])?:? ?(.*)$/s.exec(m3164[8]);
    app = tag ? tag[1] : "-";
    line = tag ? tag[2] : m3164[8];
  }
  if (pri > 191) return `priority ${pri} is over 191`;
  const out: Record<string, string> = { ...labels };
  if (app !== "-") out.app = app;
  if (host !== "-") out.host = host;
  out.facility = FACILITIES[pri >> 3];
  out.level = SEVERITIES[pri & 7];
  return { labels: out, ts, line };
}

/**
 * Splits a TCP stream of syslog messages: octet-counted frames and
 * newline-terminated ones, as they come. Feed it chunks; it returns the
 * complete messages and keeps the rest.
 *
 * @example
 * ```ts
 * import { SyslogFramer } from "./syslog.ts";
 * import assert from "node:assert/strict";
 * const framer = new SyslogFramer();
 * assert.deepEqual(framer.push("5 <1>1 6 <2>1 x\n<3"), ["<1>1 ", "<2>1 x"]);
 * assert.deepEqual(framer.push(">1 y\n"), ["<3>1 y"]);
 * ```
 */
export class SyslogFramer {
  #rest = "";

  /** Characters held of a message not complete yet. */
  get pending(): number {
    return this.#rest.length;
  }

  push(chunk: string): string[] {
    this.#rest += chunk;
    const out: string[] = [];
    for (;;) {
      const count = /^(\d{1,9}) /.exec(this.#rest);
      if (count) {
        const start = count[0].length;
        const length = Number(count[1]);
        // Octet counts are of UTF-8 bytes; messages are mostly ASCII, where they agree.
        if (this.#rest.length < start + length) break;
        out.push(this.#rest.slice(start, start + length));
        this.#rest = this.#rest.slice(start + length);
        continue;
      }
      const end = this.#rest.indexOf("\n");
      if (end < 0) break;
      const message = this.#rest.slice(0, end).replace(/\r$/, "");
      this.#rest = this.#rest.slice(end + 1);
      if (message !== "") out.push(message);
    }
    return out;
  }
}
