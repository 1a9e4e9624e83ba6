/**
 * A JSON push body sent again and again with its timestamps moved forward in place, so that a
 * client can push for minutes from a bounded pool of bodies encoded once: the lines repeat, their
 * timestamps never do.
 *
 * Timestamps are the 19-digit decimal strings of Unix nanoseconds that the JSON push carries
 * (`["1795219200000000000","line"]`, any time from September 2001 to 2286): a fixed width, so
 * moving one forward rewrites its digits and nothing else in the body.
 *
 * @module
 */

import type { PushPayload } from "./push_client.ts";

/** Digits of every timestamp. */
const WIDTH = 19;
/** The first timestamp with more digits. */
const LIMIT = 10n ** BigInt(WIDTH);
const ZERO = 0x30;
const QUOTE = 0x22;
const BRACKET = 0x5b;

/**
 * The byte offset of the first digit of each timestamp in a JSON push `body`, in body order.
 * A timestamp opens each `[ts, line]` pair, right after `["`; inside a JSON string a quote is
 * escaped, so `["` followed by digits is a pair's start and nothing else.
 */
function timestampOffsets(body: Uint8Array): number[] {
  const offsets: number[] = [];
  for (let i = body.indexOf(BRACKET); i >= 0; i = body.indexOf(BRACKET, i + 1)) {
    if (body[i + 1] !== QUOTE) continue;
    const at = i + 2;
    let n = 0;
    while (n < WIDTH && body[at + n] >= ZERO && body[at + n] <= ZERO + 9) n++;
    if (n === WIDTH && body[at + WIDTH] === QUOTE) offsets.push(at);
  }
  return offsets;
}

/**
 * A JSON push body whose timestamps {@linkcode RollingBody.advance} moves forward in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RollingBody } from "./rolling_body.ts";
 * const payload = {
 *   streams: [{ stream: { app: "web" }, values: [["1795219200000000000", "GET /"]] as [string, string][] }],
 * };
 * const body = new RollingBody(new TextEncoder().encode(JSON.stringify(payload)), payload);
 * body.advance(5_000_000_000n);
 * assert.match(new TextDecoder().decode(body.body), /"1795219205000000000"/);
 * assert.equal(body.lastTs, 1795219205000000000n);
 * ```
 */
export class RollingBody {
  /** The body as it is to be sent now. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Lines in the body. */
  readonly lines: number;
  /** Where each timestamp's digits start. */
  readonly #offsets: Uint32Array;
  /** The newest timestamp as encoded. */
  readonly #encodedLastTs: bigint;
  #shift = 0n;

  /**
   * Wraps `body`, the JSON encoding of `payload` (which it keeps no reference to).
   *
   * @throws {Error} If the body does not hold the payload's timestamps, each as 19 digits, in
   * the payload's order.
   */
  constructor(body: Uint8Array<ArrayBuffer>, payload: PushPayload) {
    const expected = payload.streams.flatMap((s) => s.values.map(([ts]) => ts));
    const offsets = timestampOffsets(body);
    if (offsets.length !== expected.length) {
      throw new Error(
        `Cannot roll push body: found ${offsets.length} ${WIDTH}-digit timestamps, expected ` +
          `${expected.length}`,
      );
    }
    const text = new TextDecoder();
    let last = 0n;
    for (let i = 0; i < offsets.length; i++) {
      const found = text.decode(body.subarray(offsets[i], offsets[i] + WIDTH));
      if (found !== expected[i]) {
        throw new Error(
          `Cannot roll push body: timestamp ${i} is ${found}, expected ${expected[i]}`,
        );
      }
      const ts = BigInt(found);
      if (ts > last) last = ts;
    }
    this.body = body;
    this.lines = expected.length;
    this.#offsets = Uint32Array.from(offsets);
    this.#encodedLastTs = last;
  }

  /** Nanoseconds added to every timestamp so far. */
  get shiftNs(): bigint {
    return this.#shift;
  }

  /** The newest timestamp of the body as it is now. */
  get lastTs(): bigint {
    return this.#encodedLastTs + this.#shift;
  }

  /**
   * Adds `deltaNs` to every timestamp of the body, in place.
   *
   * @throws {RangeError} If `deltaNs` is negative or a timestamp would outgrow 19 digits (the
   * body is left as it was).
   */
  advance(deltaNs: bigint): void {
    if (deltaNs < 0n) throw new RangeError(`Cannot move timestamps back by ${-deltaNs} ns`);
    if (this.lastTs + deltaNs >= LIMIT) {
      throw new RangeError(
        `Cannot move timestamps forward by ${deltaNs} ns: ${this.lastTs} would outgrow ` +
          `${WIDTH} digits`,
      );
    }
    const delta = new Uint8Array(WIDTH);
    const digits = deltaNs.toString();
    for (let i = 0; i < digits.length; i++) {
      delta[WIDTH - digits.length + i] = digits.charCodeAt(i) - ZERO;
    }
    // Digits above the delta's highest one change only through a carry.
    const top = WIDTH - digits.length;
    const body = this.body;
    for (const at of this.#offsets) {
      let carry = 0;
      for (let i = WIDTH - 1; i >= 0 && (i >= top || carry > 0); i--) {
        const sum = body[at + i] - ZERO + delta[i] + carry;
        carry = sum >= 10 ? 1 : 0;
        body[at + i] = ZERO + sum - 10 * carry;
      }
    }
    this.#shift += deltaNs;
  }
}
