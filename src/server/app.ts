/**
 * The HTTP routes of `loge serve`.
 *
 * @module
 */

import type { Ingester } from "../ingest/ingester.ts";
import page from "../../web/index.html" with { type: "text" };
import { errorResponse, HttpError } from "./errors.ts";
import { handlePush } from "./push.ts";

/** What the routes need. */
export interface AppOptions {
  ingester: Ingester;
  maxBodyBytes: number;
}

type Handler = (req: Request, params: Record<string, string>) => Promise<Response> | Response;

/**
 * Creates the request handler.
 *
 * @example
 * ```ts ignore
 * const handler = createHandler({ ingester, maxBodyBytes: 10 << 20 });
 * Deno.serve({ port: 3000 }, handler);
 * ```
 */
export function createHandler(options: AppOptions): (req: Request) => Promise<Response> {
  const routes: [string, URLPattern, Handler][] = [
    [
      "GET",
      new URLPattern({ pathname: "/" }),
      () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }),
    ],
    [
      "POST",
      new URLPattern({ pathname: "/api/v1/push" }),
      (req) => handlePush(req, options.ingester, options.maxBodyBytes),
    ],
  ];
  return async (req) => {
    try {
      const url = new URL(req.url);
      const allowed: string[] = [];
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec({ pathname: url.pathname });
        if (!match) continue;
        if (method === req.method || (method === "GET" && req.method === "HEAD")) {
          return await handler(req, match.pathname.groups as Record<string, string>);
        }
        allowed.push(method);
      }
      if (allowed.length > 0) {
        throw new HttpError(
          405,
          `method ${req.method} not allowed on ${url.pathname}; use ${allowed.join(", ")}`,
        );
      }
      throw new HttpError(404, `no route for ${url.pathname}`);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
