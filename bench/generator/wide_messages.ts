/**
 * What the wide JSON corpus's lines say: event messages with variable parts and their
 * attributes, by service and level, and the errors (type, message, stack trace) of error lines in
 * each service's language.
 *
 * @module
 */

import { hex8, type Rng, Weighted } from "../../testing/prng.ts";
import type { Level } from "./topology.ts";
import {
  CATEGORIES,
  COUNTRIES,
  CURRENCIES,
  EMAIL_TEMPLATES,
  FLAGS,
  MFA,
  PLANS,
  PRODUCTS,
  PROVIDERS,
  SLUGS,
  TABLES,
} from "./vocabulary.ts";
import type { Language, WideService } from "./wide_topology.ts";

/** The request a line was logged in. */
export interface Request {
  service: WideService;
  method: string;
  route: string;
  status: number;
  /** Milliseconds, to the microsecond. */
  durationMs: number;
  /** `usr_<n>`, or `undefined` for an anonymous request. */
  user: string | undefined;
  /** The upstream the request called, `name:port`. */
  upstream: string;
}

/** Values of an event's attributes. */
export type Attributes = Record<string, string | number | boolean>;

/** An event: its message and the attributes it carries. */
export interface Event {
  message: string;
  attributes: Attributes;
}

/** An error line's `error` object. */
export interface ErrorInfo {
  type: string;
  message: string;
  stack: string;
}

type Template = (r: Rng, q: Request) => Event;

const order = (r: Rng) => `ord_${hex8(r.u32()).slice(0, 7)}`;
const sku = (r: Rng) => `SKU-${r.range(10000, 99999)}`;
const cents = (r: Rng) => r.range(199, 4999) * (1 + r.skewed(4, 2));
const user = (q: Request) => q.user ?? "anonymous";

/** Messages a service logs while serving requests well, by service. */
const INFO: Readonly<Record<string, readonly Template[]>> = {
  storefront: [
    (r, q) => ({
      message: `rendered ${q.route} in ${q.durationMs.toFixed(1)} ms`,
      attributes: { "cache.status": r.pick(["hit", "miss", "stale"]), "page.variant": "ssr" },
    }),
    (r) => {
      const slug = r.pick(SLUGS);
      return {
        message: `served product page for ${slug}`,
        attributes: { "product.slug": slug, "product.sku": sku(r) },
      };
    },
    (r, q) => ({
      message: `experiment ${r.pick(FLAGS)} assigned to ${user(q)}`,
      attributes: { "experiment.arm": r.pick(["control", "treatment"]) },
    }),
  ],
  "api-gateway": [
    (r, q) => ({
      message: `proxied ${q.method} ${q.route} to ${q.upstream}`,
      attributes: { "upstream.address": q.upstream, "ratelimit.remaining": r.range(0, 600) },
    }),
    (r, q) => ({
      message: `token verified for ${user(q)}`,
      attributes: { "auth.scheme": "bearer", "auth.scopes": r.pick(["read", "read write"]) },
    }),
  ],
  catalog: [
    (r) => {
      const product = r.pick(PRODUCTS);
      return {
        message: `loaded product "${product}" with ${r.range(1, 12)} variants`,
        attributes: { "product.sku": sku(r), "db.rows": r.range(1, 12) },
      };
    },
    (r) => ({
      message: `price cache ${r.below(5) === 0 ? "miss" : "hit"} for ${sku(r)}`,
      attributes: { "cache.name": "prices", "currency": r.pick(CURRENCIES) },
    }),
    (r) => {
      const category = r.pick(CATEGORIES);
      return {
        message: `listed category ${category}, page ${r.skewed(20, 2)}`,
        attributes: { "category": category, "db.rows": r.range(0, 48) },
      };
    },
  ],
  search: [
    (r) => {
      const query = r.pick(PRODUCTS);
      const hits = r.skewed(2000, 3) - 1;
      return {
        message: `search "${query}" returned ${hits} hits`,
        attributes: { "search.query": query, "search.hits": hits, "search.index": "products-v7" },
      };
    },
    (r) => ({
      message: `suggestions served for prefix "${r.pick(PRODUCTS).slice(0, r.range(2, 6))}"`,
      attributes: { "search.suggestions": r.range(0, 10) },
    }),
  ],
  cart: [
    (r) => ({
      message: `added ${sku(r)} to cart`,
      attributes: { "cart.items": r.skewed(12, 2), "cart.quantity": r.skewed(5, 3) },
    }),
    (r) => ({
      message: "cart loaded",
      attributes: { "cart.items": r.skewed(12, 2) - 1, "cart.value_cents": cents(r) },
    }),
  ],
  checkout: [
    (r) => {
      const currency = r.pick(CURRENCIES);
      const amount = cents(r);
      return {
        message: `order ${order(r)} placed: ${r.skewed(8, 2)} items, ${amount} ${currency} cents`,
        attributes: { "order.amount_cents": amount, "order.currency": currency },
      };
    },
    (r) => ({
      message: "shipping quote accepted",
      attributes: { "shipping.carrier": r.pick(["ups", "dhl", "fedex", "usps"]) },
    }),
  ],
  identity: [
    (r) => ({
      message: "access token issued",
      attributes: {
        "oauth.grant_type": r.pick(["password", "refresh_token", "client_credentials"]),
      },
    }),
    (r, q) => ({
      message: `session created for ${user(q)}`,
      attributes: { "auth.mfa": r.pick(MFA), "geo.country": r.pick(COUNTRIES) },
    }),
  ],
  recommendations: [
    (r) => ({
      message: `scored ${r.range(50, 500)} candidates`,
      attributes: { "model.name": "two-tower", "model.version": "2026-11-02", "results": 24 },
    }),
    (r) => ({
      message: "event ingested",
      attributes: { "event.type": r.pick(["view", "add_to_cart", "purchase", "click"]) },
    }),
  ],
  payments: [
    (r) => {
      const provider = r.pick(PROVIDERS);
      return {
        message: `payment captured via ${provider}`,
        attributes: {
          "payment.provider": provider,
          "payment.amount_cents": cents(r),
          "payment.currency": r.pick(CURRENCIES),
          "order.id": order(r),
        },
      };
    },
    (r) => ({
      message: `subscription renewed on plan ${r.pick(PLANS)}`,
      attributes: { "payment.amount_cents": cents(r) },
    }),
  ],
  notifications: [
    (r) => {
      const template = r.pick(EMAIL_TEMPLATES);
      return {
        message: `email ${template} sent`,
        attributes: { "email.template": template, "smtp.response": "250 2.0.0 OK" },
      };
    },
    (r) => ({
      message: "push notification delivered",
      attributes: { "push.platform": r.pick(["ios", "android"]) },
    }),
  ],
  inventory: [
    (r) => {
      const available = r.skewed(400, 2) - 1;
      return {
        message: `stock for ${sku(r)}: ${available} available`,
        attributes: { "stock.available": available, "warehouse": r.pick(["ams1", "fra2", "iad1"]) },
      };
    },
    (r) => ({
      message: `reserved ${r.skewed(5, 3)} units for ${order(r)}`,
      attributes: { "reservation.ttl_s": 900 },
    }),
  ],
  shipping: [
    (r) => ({
      message: `quoted ${r.range(2, 5)} carriers to ${r.pick(COUNTRIES)}`,
      attributes: { "shipping.weight_g": r.range(100, 20000) },
    }),
    (r) => ({
      message: `label created for ${order(r)}`,
      attributes: { "shipping.carrier": r.pick(["ups", "dhl", "fedex", "usps"]) },
    }),
  ],
};

/** Any service's routine message: the request's summary, the commonest line of all. */
const REQUEST_DONE: Template = (r, q) => ({
  message: `${q.method} ${q.route} ${q.status} ${q.durationMs.toFixed(1)}ms`,
  attributes: { "net.protocol": r.below(10) < 7 ? "h2" : "http/1.1" },
});

/** Messages any service logs at the other levels. */
const BY_LEVEL: Readonly<Record<Exclude<Level, "info">, readonly Template[]>> = {
  debug: [
    (r) => ({
      message: `cache lookup ${r.pick(TABLES)}:${r.skewed(250_000, 2)}`,
      attributes: { "cache.hit": r.below(3) > 0 },
    }),
    (_, q) => ({ message: `calling ${q.upstream}`, attributes: { "rpc.system": "http" } }),
    (r, q) => ({
      message: `feature flag ${r.pick(FLAGS)} evaluated for ${user(q)}`,
      attributes: { "flag.value": r.below(2) === 1 },
    }),
  ],
  warn: [
    (r, q) => ({
      message: `slow request: ${q.method} ${q.route} took ${q.durationMs.toFixed(0)} ms`,
      attributes: { "threshold_ms": r.pick([500, 1000, 2000]) },
    }),
    (r, q) => ({
      message: `retrying call to ${q.upstream} (attempt ${r.range(2, 3)} of 3)`,
      attributes: { "retry.backoff_ms": r.pick([100, 200, 400, 800]) },
    }),
    (_, q) => ({
      message: `request rejected with ${q.status}`,
      attributes: { "reason": REASONS[q.status] ?? "client error" },
    }),
  ],
  error: [
    (_, q) => ({
      message: `request failed: ${q.method} ${q.route}`,
      attributes: { "upstream.address": q.upstream },
    }),
    (r, q) => ({
      message: `upstream ${q.upstream} returned ${q.status} after ${q.durationMs.toFixed(0)} ms`,
      attributes: { "retry.attempts": r.range(1, 3) },
    }),
    (r) => ({
      message: `database query on ${r.pick(TABLES)} failed`,
      attributes: { "db.system": "postgresql", "db.operation": r.pick(["SELECT", "UPDATE"]) },
    }),
  ],
};

const REASONS: Readonly<Record<number, string>> = {
  400: "validation failed",
  401: "missing or expired token",
  403: "forbidden",
  404: "not found",
  409: "conflict",
  429: "rate limited",
};

/** Share of info lines that are the request summary. */
const REQUEST_DONE_SHARE = 0.4;

/**
 * The event of a line at `level` in request `q`.
 *
 * @example
 * ```ts
 * import { event } from "./wide_messages.ts";
 * import { SERVICES } from "./wide_topology.ts";
 * import { Rng } from "../../testing/prng.ts";
 * const q = {
 *   service: SERVICES[0], method: "GET", route: "/", status: 200, durationMs: 12.5,
 *   user: "usr_7", upstream: "catalog:8080",
 * };
 * console.log(event(new Rng(), "info", q).message.length > 0); // true
 * ```
 */
export function event(r: Rng, level: Level, q: Request): Event {
  if (level === "info") {
    return r.float() < REQUEST_DONE_SHARE ? REQUEST_DONE(r, q) : r.pick(INFO[q.service.name])(r, q);
  }
  return r.pick(BY_LEVEL[level])(r, q);
}

const STATUS_BY_LEVEL: Readonly<Record<Level, Weighted<number>>> = {
  debug: new Weighted([[200, 1]]),
  info: new Weighted([[200, 88], [302, 3], [304, 9]]),
  warn: new Weighted([[200, 30], [400, 15], [401, 12], [403, 4], [404, 25], [409, 4], [429, 10]]),
  error: new Weighted([[500, 45], [502, 20], [503, 20], [504, 15]]),
};

/** Statuses of successful writes (`POST`, `PUT`, `DELETE`). */
const WRITTEN = new Weighted([[200, 55], [201, 35], [204, 10]]);

/**
 * An HTTP status of a line at `level` for a request with `method`: 2xx/3xx at info (201 and 204
 * only for writes), a slow 200 or a 4xx at warn, 5xx at error.
 *
 * @example
 * ```ts
 * import { statusOf } from "./wide_messages.ts";
 * import { Rng } from "../../testing/prng.ts";
 * console.log(statusOf(new Rng(), "error", "GET") >= 500); // true
 * ```
 */
export function statusOf(r: Rng, level: Level, method: string): number {
  return (level === "info" && method !== "GET" ? WRITTEN : STATUS_BY_LEVEL[level]).pick(r);
}

/** `[type, message]` of each language's common errors; `{peer}` is the upstream. */
const ERRORS: Readonly<Record<Language, readonly (readonly [string, string])[]>> = {
  go: [
    ["*net.OpError", "dial tcp {peer}: connect: connection refused"],
    ["context.deadlineExceededError", "context deadline exceeded"],
    ["*url.Error", `Post "http://{peer}/": read: connection reset by peer`],
    ["*pq.Error", "pq: deadlock detected"],
  ],
  java: [
    ["java.net.SocketTimeoutException", "Read timed out"],
    ["org.postgresql.util.PSQLException", "ERROR: canceling statement due to statement timeout"],
    ["java.lang.IllegalStateException", "Connection pool shut down"],
    ["org.springframework.web.client.ResourceAccessException", "I/O error on POST request"],
  ],
  node: [
    ["FetchError", "request to http://{peer}/ failed, reason: connect ECONNREFUSED"],
    ["TypeError", "Cannot read properties of undefined (reading 'price')"],
    ["AbortError", "The operation was aborted due to timeout"],
  ],
  python: [
    ["requests.exceptions.ConnectionError", "HTTPConnectionPool(host='{peer}'): Max retries"],
    ["psycopg2.OperationalError", "server closed the connection unexpectedly"],
    ["TimeoutError", "timed out waiting for {peer}"],
  ],
};

/** The functions on each language's stack traces, given a file and line in its own format. */
const FRAMES: Readonly<Record<Language, readonly string[]>> = {
  go: ["internal/http.(*Handler).ServeHTTP", "internal/client.(*Client).Do", "main.run"],
  java: ["web.Controller.handle", "service.Service.execute", "repo.Repository.query"],
  node: ["Router.handle", "Service.fetch", "processTicksAndRejections"],
  python: ["api.handle", "service.fetch", "client.request"],
};

/**
 * The `error` object of an error line in request `q`: a type and message of the service's
 * language, and a short stack trace in its format.
 *
 * @example
 * ```ts
 * import { errorOf } from "./wide_messages.ts";
 * import { SERVICES } from "./wide_topology.ts";
 * import { Rng } from "../../testing/prng.ts";
 * const q = {
 *   service: SERVICES[2], method: "GET", route: "/v1/products", status: 500, durationMs: 30,
 *   user: undefined, upstream: "inventory:8080",
 * };
 * console.log(errorOf(new Rng(), q).stack.includes("\n")); // true
 * ```
 */
export function errorOf(r: Rng, q: Request): ErrorInfo {
  const s = q.service;
  const [type, template] = r.pick(ERRORS[s.language]);
  const message = template.replace("{peer}", q.upstream);
  const lines = FRAMES[s.language].map((frame) => [frame, r.range(20, 400)] as const);
  const pkg = s.name.replace("-", "");
  let stack: string;
  switch (s.language) {
    case "go":
      stack = `goroutine ${r.range(20, 9000)} [running]:\n` +
        lines.map(([f, n]) => `${f}(...)\n\t/app/${f.split(".")[0]}/${pkg}.go:${n}`).join("\n");
      break;
    case "java":
      stack = `${type}: ${message}\n` +
        lines.map(([f, n]) => {
          const cls = f.slice(0, f.lastIndexOf("."));
          return `\tat com.shop.${pkg}.${f}(${cls.split(".").at(-1)}.java:${n})`;
        }).join("\n");
      break;
    case "node":
      stack = `${type}: ${message}\n` +
        lines.map(([f, n]) => `    at ${f} (/app/dist/${pkg}.js:${n}:${r.range(5, 60)})`)
          .join("\n");
      break;
    case "python":
      stack = "Traceback (most recent call last):\n" +
        lines.map(([f, n]) => {
          const [mod, fn] = f.split(".");
          return `  File "/app/${pkg}/${mod}.py", line ${n}, in ${fn}`;
        }).join("\n") + `\n${type}: ${message}`;
      break;
  }
  return { type, message, stack };
}
