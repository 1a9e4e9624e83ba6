/**
 * API-key check for the read endpoints when `--api-key` is set: a bearer
 * token, or HTTP basic auth with the key as the password (what Grafana's
 * Loki data source sends when set up with basic auth; the user is ignored).
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.ts";

/**
 * Returns a check that throws 401 unless `req` carries `Authorization:
 * Bearer <key>` or `Authorization: Basic base64(<any user>:<key>)`; with no
 * key configured, everything passes. Comparison is constant-time (over
 * digests, so the key's length does not leak either).
 *
 * @example
 * ```ts
 * import { bearerCheck } from "./auth.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const check = bearerCheck("s3cret");
 * check(new Request("http://x/", { headers: { authorization: "Bearer s3cret" } })); // passes
 * const basic = `Basic ${btoa("grafana:s3cret")}`;
 * check(new Request("http://x/", { headers: { authorization: basic } })); // passes
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
    const key = presentedKey(req.headers.get("authorization") ?? "");
    if (key === undefined) {
      throw new HttpError(
        401,
        "missing API key: send Authorization: Bearer <key>, or Basic with the key as password",
        {},
        { "www-authenticate": 'Bearer realm="loge"' },
      );
    }
    if (!timingSafeEqual(digest(key), expected)) {
      throw new HttpError(401, "invalid API key", {}, {
        "www-authenticate": 'Bearer realm="loge"',
      });
    }
  };
}

/** The key in an `Authorization` header: a bearer token, or a basic password. */
function presentedKey(header: string): string | undefined {
  const match = /^(Bearer|Basic)\s+(.+)$/i.exec(header.trim());
  if (!match) return undefined;
  if (match[1].toLowerCase() === "bearer") return match[2];
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(match[2]), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
