/**
 * Object keys of the cold tier. A key carries everything a node needs to
 * catalog the file from a bucket listing alone, without reading it:
 *
 * ```
 * <prefix><node>/<minTs>-<maxTs>-<rows>-<rawBytes>-<tailBytes>-<file name>
 * loge/web-1/1795219200000000000-1795219259999000000-125000-31457280-401234-l1-mi2k3x-00000007.loge
 * ```
 *
 * The node id keeps nodes that share a bucket apart (each writes below its
 * own); the file name carries the level and is unique per node; `tailBytes`
 * is the size of the file's index and footer, so that a cold read fetches
 * the index in one request. The catalog names a remote file by its key
 * below the prefix.
 *
 * @module
 */

import type { RemoteFile } from "../storage/catalog.ts";
import { segmentLevel } from "../storage/segment_name.ts";

/** What a node id may hold: it is one path segment of every key the node writes. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const NAME =
  /^([A-Za-z0-9][A-Za-z0-9._-]{0,62})\/(\d{1,19})-(\d{1,19})-(\d{1,15})-(\d{1,15})-(\d{1,15})-([^/]+)$/;

/**
 * Why `id` cannot be a node id, or `undefined` when it can.
 *
 * @example
 * ```ts
 * import { nodeIdProblem } from "./remote_key.ts";
 * import assert from "node:assert/strict";
 * assert.equal(nodeIdProblem("web-1"), undefined);
 * assert.match(nodeIdProblem("a/b")!, /letters, digits/);
 * ```
 */
export function nodeIdProblem(id: string): string | undefined {
  return NODE_ID.test(id)
    ? undefined
    : "must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit";
}

/**
 * The name (key below the prefix) of a file of `node` in the cold tier.
 *
 * @example
 * ```ts
 * import { remoteName } from "./remote_key.ts";
 * import assert from "node:assert/strict";
 * const file = { name: "l1-a-00000001.loge", minTs: 5n, maxTs: 9n, rows: 3, rawBytes: 120 };
 * assert.equal(remoteName("web-1", file, 800), "web-1/5-9-3-120-800-l1-a-00000001.loge");
 * ```
 */
export function remoteName(
  node: string,
  file: { name: string; minTs: bigint; maxTs: bigint; rows: number; rawBytes: number },
  tailBytes: number,
): string {
  const { name, minTs, maxTs, rows, rawBytes } = file;
  return `${node}/${minTs}-${maxTs}-${rows}-${rawBytes}-${tailBytes}-${name}`;
}

/**
 * What the name of a listed object of `bytes` bytes tells, or `undefined`
 * when it is not a file of the cold tier (anything else in the bucket is
 * left alone).
 *
 * @example
 * ```ts
 * import { parseRemoteName } from "./remote_key.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRemoteName("web-1/5-9-3-120-800-l1-a-00000001.loge", 4096), {
 *   file: {
 *     name: "web-1/5-9-3-120-800-l1-a-00000001.loge", level: 1,
 *     minTs: 5n, maxTs: 9n, rows: 3, rawBytes: 120, bytes: 4096,
 *   },
 *   node: "web-1",
 *   local: "l1-a-00000001.loge",
 *   tailBytes: 800,
 * });
 * assert.equal(parseRemoteName("web-1/notes.txt", 10), undefined);
 * ```
 */
export function parseRemoteName(
  name: string,
  bytes: number,
): { file: RemoteFile; node: string; local: string; tailBytes: number } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const level = segmentLevel(m[7]);
  const minTs = BigInt(m[2]);
  const maxTs = BigInt(m[3]);
  const tailBytes = Number(m[6]);
  if (level === undefined || minTs > maxTs || maxTs >= 2n ** 63n || tailBytes > bytes) {
    return undefined;
  }
  return {
    file: { name, level, minTs, maxTs, rows: Number(m[4]), rawBytes: Number(m[5]), bytes },
    node: m[1],
    local: m[7],
    tailBytes,
  };
}
