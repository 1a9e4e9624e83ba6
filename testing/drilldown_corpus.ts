/**
 * Test data of the Explore and Logs Drilldown tests: lines of three
 * services as a shipper would push them to Loki's push route, and that push.
 *
 * @module
 */

import assert from "node:assert/strict";

/** A second, in nanoseconds. */
export const S = 1_000_000_000n;
/** 2023-11-14T22:13:20Z, in nanoseconds: the corpus' first line. */
export const T0 = 1_700_000_000n * S;

/** A pushed line: its stream labels (as sent), time, text and structured metadata. */
export interface Line {
  labels: Record<string, string>;
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

const SHOP_PROD = { app: "shop", env: "prod", pod: "shop-1" };
const SHOP_DEV = { app: "shop", env: "dev", pod: "shop-2" };
const AUTH = { app: "auth", namespace: "sec", level: "debug" };

/**
 * `shop` (prod): 120 logfmt lines every 5 s, one in four an error; `shop`
 * (dev): 40 JSON lines every 7 s with a trace id; `auth`: 30 plain lines
 * every 10 s with a level label.
 *
 * @example
 * ```ts
 * import { corpus } from "./drilldown_corpus.ts";
 * import assert from "node:assert/strict";
 * assert.equal(corpus().length, 190);
 * ```
 */
export function corpus(): Line[] {
  const lines: Line[] = [];
  for (let i = 0; i < 120; i++) {
    const error = i % 4 === 0;
    lines.push({
      labels: SHOP_PROD,
      ts: T0 + BigInt(i * 5) * S,
      line: `level=${error ? "error" : "info"} msg="order ${i} placed" took=${i % 7}ms status=${
        error ? 500 : 200
      }`,
    });
  }
  for (let i = 0; i < 40; i++) {
    lines.push({
      labels: SHOP_DEV,
      ts: T0 + BigInt(i * 7) * S + 1n,
      line: JSON.stringify({
        msg: `cart ${i} updated by user`,
        level: "warn",
        user: { id: 1000 + i, name: `u${i}` },
        ms: i + 0.5,
      }),
      metadata: { trace_id: `t${i % 8}` },
    });
  }
  for (let i = 0; i < 30; i++) {
    lines.push({
      labels: AUTH,
      ts: T0 + BigInt(i * 10) * S + 2n,
      line: `token ${i} refreshed for session ${i * 3}`,
    });
  }
  return lines;
}

/** Pushes `lines` as Loki JSON (one stream per label set) to `/loki/api/v1/push`, which must answer 204. */
export async function lokiPush(url: string, lines: Line[]): Promise<void> {
  const streams = [...Map.groupBy(lines, (l) => JSON.stringify(l.labels))].map(([, group]) => ({
    stream: group[0].labels,
    values: group.map((l) =>
      l.metadata ? [String(l.ts), l.line, l.metadata] : [String(l.ts), l.line]
    ),
  }));
  const res = await fetch(`${url}/loki/api/v1/push`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ streams }),
  });
  assert.equal(res.status, 204, await res.text());
}
