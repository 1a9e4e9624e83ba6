/**
 * CORS for browsers on other origins (`--cors-origin`): a page served
 * elsewhere may call loge's and Loki's APIs from the allowed origins. A
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed
 * origin is answered 204 with the methods and headers it may use; one from
 * another origin 403. Answers to allowed origins carry
 * `Access-Control-Allow-Origin`; others carry none, so the browser keeps them
 * from the page. Off (no headers, `OPTIONS` not answered) without origins.
 *
 * @module
 */

/** Methods a cross-origin page may use. */
const METHODS = "GET, POST, OPTIONS";
/** Headers it may send: what loge's clients, Grafana's and the shippers' do. */
const HEADERS = "authorization, content-type, content-encoding, x-scope-orgid";
/** How long a browser may keep a preflight's answer, in seconds. */
const MAX_AGE = "600";

/**
 * `handler` with CORS for `origins` (`*`: any); `handler` itself when there
 * are none.
 *
 * @example
 * ```ts
 * import { withCors } from "./cors.ts";
 * import assert from "node:assert/strict";
 * const handle = withCors(() => Promise.resolve(new Response("ok")), ["https://app.example"]);
 * const res = await handle(new Request("http://loge/api/v1/labels", {
 *   headers: { origin: "https://app.example" },
 * }));
 * assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
 * const other = await handle(new Request("http://loge/api/v1/labels", {
 *   headers: { origin: "https://evil.example" },
 * }));
 * assert.equal(other.headers.get("access-control-allow-origin"), null);
 * ```
 */
export function withCors(
  handler: (req: Request) => Promise<Response>,
  origins: readonly string[],
): (req: Request) => Promise<Response> {
  if (origins.length === 0) return handler;
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return async (req) => {
    const origin = req.headers.get("origin");
    const ok = origin !== null && (any || allowed.has(origin));
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      if (!ok) {
        return new Response(
          JSON.stringify({
            status: "error",
            error: `origin ${JSON.stringify(origin ?? "")} is not allowed (--cors-origin)`,
          }),
          { status: 403, headers: { "content-type": "application/json", vary: "Origin" } },
        );
      }
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": any ? "*" : origin,
          "access-control-allow-methods": METHODS,
          "access-control-allow-headers": HEADERS,
          "access-control-max-age": MAX_AGE,
          vary: "Origin",
        },
      });
    }
    const res = await handler(req);
    // CORS is not for WebSockets: an upgrade's answer must stay the one Deno made.
    if (!ok || res.status === 101) return res;
    // Answers may be immutable (a fetched body's): headers go on a copy.
    const headers = new Headers(res.headers);
    headers.set("access-control-allow-origin", any ? "*" : origin);
    headers.append("vary", "Origin");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
