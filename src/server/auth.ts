/**
 * Bearer-token check for the read endpoints when `--api-key` is set.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.ts";

/**
 * Returns a check that throws 401 unless `req` carries `Authorization:
 * Bearer <key>`; with no key configured, everything passes. Comparison is
 * constant-time (over digests, so the key's length does not leak either).
 *
 * @example
 * ```ts
 * import { bearerCheck } from "./auth.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const check = bearerCheck("s3cret");
 * check(new Request("http://x/", { headers: { authorization: "Bearer s3cret" } })); // passes
 * assert.throws(
 *   () => check(new Request("http://x/", { headers: { authorization: "Bearer guess" } })),
 *   (e: unknown) => e instanceof HttpError && e.status === 401,
 * );
 * ```
 */
export function bearerCheck(key: string): (req: Request) => void {
  if (key === "") return () => {};
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const expected = digest(key);
  return (req) => {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) {
      throw new HttpError(401, "missing API key: send Authorization: Bearer <key>", {}, {
        "www-authenticate": 'Bearer realm="loge"',
      });
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      throw new HttpError(401, "invalid API key", {}, {
        "www-authenticate": 'Bearer realm="loge"',
      });
    }
  };
}
