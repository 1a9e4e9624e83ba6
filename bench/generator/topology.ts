/**
 * The generator's topology: apps, hosts, environments and services, and the streams (label sets)
 * they make, with the weight of each source of lines.
 *
 * @module
 */

import { Weighted } from "../../testing/prng.ts";

export type Level = "debug" | "info" | "warn" | "error";
export const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

export type Env = "prod" | "staging" | "dev";

interface HostSpec {
  app: string;
  host: string;
  env: Env;
  services: readonly string[];
}

/** Services that write access lines; all others write JSON. */
const ACCESS_SERVICES: ReadonlySet<string> = new Set(["nginx", "gateway"]);

const APP_WEIGHT: Readonly<Record<string, number>> = {
  web: 34,
  api: 26,
  auth: 10,
  billing: 6,
  worker: 14,
  search: 10,
};

const SERVICE_WEIGHT: Readonly<Record<string, number>> = {
  nginx: 0.7,
  frontend: 0.3,
  gateway: 0.6,
  users: 0.4,
  auth: 1,
  payments: 0.6,
  invoices: 0.4,
  jobs: 0.7,
  mailer: 0.3,
  indexer: 0.45,
  query: 0.55,
};

const ENV_WEIGHT: Readonly<Record<Env, number>> = { prod: 1, staging: 0.12, dev: 0.05 };

function hosts(app: string, services: readonly string[], spec: string): HostSpec[] {
  return spec.split(" ").map((host) => ({
    app,
    host,
    env: host.includes("-stg-") ? "staging" : host.includes("-dev-") ? "dev" : "prod",
    services,
  }));
}

const HOSTS: readonly HostSpec[] = [
  ...hosts("web", ["nginx", "frontend"], "web-01 web-02 web-03 web-04 web-stg-01"),
  ...hosts("api", ["gateway", "users"], "api-01 api-02 api-03 api-stg-01 api-dev-01"),
  ...hosts("auth", ["auth"], "auth-01 auth-02 auth-stg-01"),
  ...hosts("billing", ["payments", "invoices"], "billing-01 billing-stg-01"),
  ...hosts("worker", ["jobs", "mailer"], "worker-01 worker-02 worker-dev-01"),
  ...hosts("search", ["indexer", "query"], "search-01 search-02"),
];

/** Where lines come from: one service on one host. */
export interface Source {
  app: string;
  env: Env;
  host: string;
  service: string;
  access: boolean;
  /** Labels per level, frozen and shared. */
  labels: Readonly<Record<Level, Readonly<Record<string, string>>>>;
  levels: Weighted<Level>;
}

const LEVEL_WEIGHTS: Readonly<Record<Env, readonly (readonly [Level, number])[]>> = {
  prod: [["debug", 3], ["info", 85], ["warn", 8], ["error", 4]],
  staging: [["debug", 15], ["info", 72], ["warn", 9], ["error", 4]],
  dev: [["debug", 40], ["info", 50], ["warn", 7], ["error", 3]],
};

function buildSources(): Weighted<Source> {
  const hostsPerApp = new Map<string, number>();
  for (const h of HOSTS) hostsPerApp.set(h.app, (hostsPerApp.get(h.app) ?? 0) + ENV_WEIGHT[h.env]);
  const pairs: [Source, number][] = [];
  for (const h of HOSTS) {
    for (const service of h.services) {
      const make = (level: Level) =>
        Object.freeze({ app: h.app, env: h.env, level, host: h.host, service });
      const labels = Object.freeze({
        debug: make("debug"),
        info: make("info"),
        warn: make("warn"),
        error: make("error"),
      });
      const weight = (APP_WEIGHT[h.app] * SERVICE_WEIGHT[service] * ENV_WEIGHT[h.env]) /
        hostsPerApp.get(h.app)!;
      pairs.push([{
        app: h.app,
        env: h.env,
        host: h.host,
        service,
        access: ACCESS_SERVICES.has(service),
        labels,
        levels: new Weighted(LEVEL_WEIGHTS[h.env]),
      }, weight]);
    }
  }
  return new Weighted(pairs);
}

export const SOURCES: Weighted<Source> = buildSources();

/**
 * Every label set the generator can emit: the universe of streams. Access-log services never log
 * at `debug`, so a corpus uses a subset of these.
 *
 * @example Count the possible streams
 * ```ts
 * import { LABEL_SETS } from "./topology.ts";
 * console.log(LABEL_SETS.length); // 148
 * ```
 */
export const LABEL_SETS: readonly Readonly<Record<string, string>>[] = Object.freeze(
  HOSTS.flatMap((h) =>
    h.services.flatMap((service) =>
      LEVELS.map((level) => Object.freeze({ app: h.app, env: h.env, level, host: h.host, service }))
    )
  ),
);
