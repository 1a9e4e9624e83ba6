/**
 * Tenants (`loge serve --multi-tenant`): Loki's `X-Scope-OrgID` header names
 * the tenant of every request, and each tenant has a store of its own — its
 * data folder below `<output-path>/tenants/`, write-ahead log, head, files,
 * catalog, cold-tier prefix, engine and live tails — created by its first
 * push and opened at its first request after that. A read for a tenant that
 * never pushed answers from an empty store, so reads create nothing. Tenants thus never see each other's lines, labels, stats or
 * tails, by construction rather than by a filter every route must remember.
 * Routes that read no data (the web page, `/ready`, `buildinfo`) need no
 * tenant and are answered by the data folder's own, empty store; every other
 * request without one is 401, as in Loki.
 *
 * Without `--multi-tenant` the header is ignored and the data folder itself
 * is the one store.
 *
 * @module
 */

import { errorResponse, HttpError, lokiFlavor } from "./errors.ts";

/** The header that names the tenant (Loki's). */
export const TENANT_HEADER = "X-Scope-OrgID";

/** Longest tenant id (Loki's `MaxTenantIDLength`). */
const MAX_TENANT_ID = 150;

/** Characters a tenant id may hold (Loki's `tenant.ValidTenantID`). */
const TENANT_ID = /^[a-zA-Z0-9!\-_.*'()]+$/;

/**
 * Why `id` cannot be a tenant id (as Loki checks it), or `undefined`.
 *
 * @example
 * ```ts
 * import { tenantIdProblem } from "./tenants.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tenantIdProblem("team-a"), undefined);
 * assert.match(tenantIdProblem("a/b")!, /unsupported character '\/'/);
 * assert.match(tenantIdProblem("..")!, /not allowed/);
 * ```
 */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length > MAX_TENANT_ID) return `tenant ID is longer than ${MAX_TENANT_ID} characters`;
  if (id === "." || id === "..") return `tenant ID ${JSON.stringify(id)} is not allowed`;
  if (!TENANT_ID.test(id)) {
    const bad = [...id].find((c) => !TENANT_ID.test(c));
    return `tenant ID ${JSON.stringify(id)} contains unsupported character '${bad}'`;
  }
  return undefined;
}

/** Paths that write a tenant's data: only they create a tenant's store. */
const WRITES = new Set(["/api/v1/push", "/loki/api/v1/push"]);

/** Paths that read or write no tenant's data. */
function tenantFree(pathname: string): boolean {
  return pathname === "/" || pathname.startsWith("/assets/") || pathname === "/ready" ||
    pathname === "/loki/api/v1/status/buildinfo";
}

/**
 * Routes requests to their tenant's handler, opening a tenant's store at its
 * first request (once, however many requests race for it).
 *
 * @example
 * ```ts
 * import { TenantRouter } from "./tenants.ts";
 * import assert from "node:assert/strict";
 * const store = (name: string) => ({
 *   handler: (_req: Request) => Promise.resolve(new Response(name)),
 *   drain: () => {},
 *   close: () => Promise.resolve(),
 * });
 * const router = new TenantRouter((tenant) => Promise.resolve(store(tenant)), store("none"));
 * const ask = (headers: Record<string, string>) =>
 *   router.handle(new Request("http://loge.test/api/v1/stats", { headers }));
 * assert.equal(await (await ask({ "X-Scope-OrgID": "team-a" })).text(), "team-a");
 * assert.equal((await ask({})).status, 401);
 * assert.equal((await ask({ "X-Scope-OrgID": "a/b" })).status, 400);
 * await router.close();
 * ```
 */
export class TenantRouter {
  readonly #open: (tenant: string, create: boolean) => Promise<TenantStore | undefined>;
  readonly #free: TenantStore;
  readonly #stores = new Map<string, Promise<TenantStore | undefined>>();

  /**
   * Routes to the stores `open` makes (or finds: `undefined` when the tenant
   * has none and `create` is false); `free`, an empty store, answers the
   * routes that need no tenant, and reads for tenants without a store.
   */
  constructor(
    open: (tenant: string, create: boolean) => Promise<TenantStore | undefined>,
    free: TenantStore,
  ) {
    this.#open = open;
    this.#free = free;
  }

  /** Answers `req` with its tenant's handler. */
  async handle(req: Request): Promise<Response> {
    const header = req.headers.get(TENANT_HEADER);
    // Target and Host that make no URL: the tenant-free store answers 400.
    if (!URL.canParse(req.url)) return this.#free.handler(req);
    const free = tenantFree(new URL(req.url).pathname);
    if (header === null || header.trim() === "") {
      if (free) return this.#free.handler(req);
      return plainError(401, "no org id");
    }
    const tenant = header.trim();
    const problem = tenantIdProblem(tenant);
    if (problem !== undefined) return plainError(400, problem);
    const create = req.method === "POST" && WRITES.has(new URL(req.url).pathname);
    const store = await this.#store(tenant, create) ?? this.#free;
    return store.handler(req);
  }

  async #store(tenant: string, create: boolean): Promise<TenantStore | undefined> {
    let store = this.#stores.get(tenant);
    if (store === undefined || (create && await store === undefined)) {
      store = this.#open(tenant, create);
      this.#stores.set(tenant, store);
      // A store that failed to open, or that does not exist yet, is looked for again later.
      store.then((s) => s ?? this.#stores.delete(tenant), () => this.#stores.delete(tenant));
    }
    return store;
  }

  /** Ends every store's long-lived answers (live tails), before the server shuts down. */
  drain(): void {
    this.#free.drain();
    for (const store of this.#stores.values()) store.then((s) => s?.drain(), () => {});
  }

  /** Closes every store opened (each flushes and closes its log), and the free one. */
  async close(): Promise<void> {
    const stores = await Promise.allSettled(this.#stores.values());
    this.#stores.clear();
    for (const s of stores) if (s.status === "fulfilled") await s.value?.close();
    await this.#free.close();
  }
}

/** One tenant's store: its request handler, and how to end it. */
export interface TenantStore {
  handler(req: Request): Promise<Response>;
  /** Ends long-lived answers (live tails), which would hold a graceful shutdown. */
  drain(): void;
  close(): Promise<void>;
}

/** An error as Loki writes one before any route: plain text. */
function plainError(status: number, message: string): Response {
  return errorResponse(new HttpError(status, message), lokiFlavor);
}
