/**
 * The routes of a server, looked up by path: routes whose pattern is a
 * plain path in one map lookup, the few with parameters or wildcards by
 * `URLPattern`, in the order given. Every push goes through here, and a
 * `URLPattern.exec` costs a few microseconds: trying forty of them in turn
 * cost a bulk push a fifth of a millisecond.
 *
 * @module
 */

/** A route: its method, its path pattern, and what answers it. */
export type Route<H> = readonly [method: string, pattern: URLPattern, handler: H];

/** A route that matches a path, with the path's parameters. */
export interface RouteMatch<H> {
  readonly method: string;
  /** The route's path pattern, as `URLPattern` writes it: what metrics name the route by. */
  readonly route: string;
  readonly handler: H;
  readonly params: Record<string, string | undefined>;
}

/** Characters of URLPattern's syntax: a pathname without any is matched as it is. */
const PATTERN_SYNTAX = /[:*(){}?+\\]/;

const NO_PARAMS: Record<string, string | undefined> = Object.freeze({});

/**
 * Routes by path.
 *
 * @example
 * ```ts
 * import { RouteTable } from "./route_table.ts";
 * import assert from "node:assert/strict";
 * const table = new RouteTable([
 *   ["GET", new URLPattern({ pathname: "/api/v1/labels" }), "labels"],
 *   ["GET", new URLPattern({ pathname: "/api/v1/label/:name/values" }), "values"],
 *   ["POST", new URLPattern({ pathname: "/api/v1/labels" }), "form"],
 * ]);
 * assert.deepEqual(table.match("/api/v1/labels").map((m) => m.method), ["GET", "POST"]);
 * assert.deepEqual(table.match("/api/v1/label/app/values")[0].params, { name: "app" });
 * assert.deepEqual(table.match("/nowhere"), []);
 * ```
 */
export class RouteTable<H> {
  readonly #exact = new Map<string, RouteMatch<H>[]>();
  readonly #patterns: Route<H>[] = [];

  constructor(routes: Iterable<Route<H>>) {
    for (const route of routes) {
      const [method, pattern, handler] = route;
      if (PATTERN_SYNTAX.test(pattern.pathname)) this.#patterns.push(route);
      else {
        const matches = this.#exact.get(pattern.pathname) ?? [];
        matches.push({ method, route: pattern.pathname, handler, params: NO_PARAMS });
        this.#exact.set(pattern.pathname, matches);
      }
    }
  }

  /** The routes that match `pathname`: those of its plain path first, then the patterns' in order. */
  match(pathname: string): RouteMatch<H>[] {
    const matches = [...this.#exact.get(pathname) ?? []];
    for (const [method, pattern, handler] of this.#patterns) {
      const match = pattern.exec({ pathname });
      if (match) {
        matches.push({ method, route: pattern.pathname, handler, params: match.pathname.groups });
      }
    }
    return matches;
  }
}
