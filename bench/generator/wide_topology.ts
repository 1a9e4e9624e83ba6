/**
 * The topology of the wide JSON corpus: a shop's microservices on Kubernetes, in two clusters of
 * production (`eu-west-1`, `us-east-1`) and one of staging, with their pods, nodes, versions and
 * teams, and the streams (label sets `app`, `env`, `namespace`, `level`) their lines go to.
 *
 * Everything here is fixed: the corpus seed chooses lines, not the fleet.
 *
 * @module
 */

import { fmix32, Weighted } from "../../testing/prng.ts";
import type { Level } from "./topology.ts";

/** The environments of the wide corpus. */
export type WideEnv = "prod" | "staging";

/** The runtime a service is written for: it shapes its loggers, threads and stack traces. */
export type Language = "go" | "java" | "node" | "python";

/** A microservice: its deployment, its traffic share and what it serves. */
export interface WideService {
  /** Deployment name, the `app` label. */
  name: string;
  namespace: string;
  team: string;
  language: Language;
  /** Share of the production lines, relative to the other services. */
  weight: number;
  /** Production replicas per cluster. */
  replicas: number;
  /** Whether the service also runs in staging (one replica). */
  staging: boolean;
  /** `[rolling out, current]`: a third of the pods already run the first. */
  versions: readonly [string, string];
  /** `[method, route]` of the requests it serves. */
  routes: readonly (readonly [string, string])[];
  /** Logger names (Java classes, Go packages, Node modules, Python modules). */
  loggers: readonly string[];
  /** Services it calls, `name:port`. */
  upstreams: readonly string[];
  /** Median request duration, ms. */
  medianMs: number;
}

/** A Kubernetes node. */
export interface Node {
  /** `ip-10-0-12-34.eu-west-1.compute.internal`. */
  name: string;
  region: string;
  zone: string;
  cluster: string;
}

/** A pod of a service in an environment, with the labels of its lines. */
export interface Pod {
  service: WideService;
  env: WideEnv;
  /** `catalog-5d8c7b9f4x-k2m7q`. */
  name: string;
  node: Node;
  version: string;
  /** The ReplicaSet's `pod-template-hash`. */
  templateHash: string;
  /** Runs the version being rolled out. */
  canary: boolean;
  /** Stream labels by level: frozen, shared by every line of the pod's service and env. */
  labels: Readonly<Record<Level, Readonly<Record<string, string>>>>;
}

const endpoint = (method: string, route: string) => [method, route] as const;

/** The services, busiest first. */
export const SERVICES: readonly WideService[] = [
  {
    name: "storefront",
    namespace: "web",
    team: "web",
    language: "node",
    weight: 22,
    replicas: 6,
    staging: true,
    versions: ["4.31.0", "4.30.2"],
    routes: [
      endpoint("GET", "/"),
      endpoint("GET", "/products/:slug"),
      endpoint("GET", "/category/:name"),
      endpoint("GET", "/search"),
      endpoint("GET", "/cart"),
      endpoint("POST", "/cart/items"),
      endpoint("GET", "/checkout"),
      endpoint("GET", "/account/orders"),
    ],
    loggers: ["storefront:render", "storefront:session", "storefront:http"],
    upstreams: ["api-gateway:8080", "catalog:8080", "recommendations:8000"],
    medianMs: 45,
  },
  {
    name: "api-gateway",
    namespace: "edge",
    team: "platform",
    language: "go",
    weight: 20,
    replicas: 5,
    staging: true,
    versions: ["1.18.4", "1.18.3"],
    routes: [
      endpoint("GET", "/api/v2/products/{id}"),
      endpoint("GET", "/api/v2/products"),
      endpoint("GET", "/api/v1/users/{id}"),
      endpoint("GET", "/api/v1/orders/{id}"),
      endpoint("POST", "/api/v1/orders"),
      endpoint("POST", "/api/v1/cart/items"),
      endpoint("POST", "/api/v1/auth/token"),
      endpoint("GET", "/api/v1/search"),
    ],
    loggers: ["gateway/proxy", "gateway/auth", "gateway/ratelimit"],
    upstreams: ["catalog:8080", "cart:8080", "identity:9000", "checkout:8080", "search:8080"],
    medianMs: 18,
  },
  {
    name: "catalog",
    namespace: "shop",
    team: "catalog",
    language: "java",
    weight: 14,
    replicas: 4,
    staging: true,
    versions: ["2.7.0", "2.6.9"],
    routes: [
      endpoint("GET", "/v1/products/{id}"),
      endpoint("GET", "/v1/products"),
      endpoint("GET", "/v1/categories/{name}"),
      endpoint("PUT", "/v1/products/{id}/price"),
    ],
    loggers: [
      "com.shop.catalog.web.ProductController",
      "com.shop.catalog.repo.ProductRepository",
      "com.shop.catalog.cache.PriceCache",
    ],
    upstreams: ["inventory:8080", "postgres-catalog:5432", "redis-catalog:6379"],
    medianMs: 12,
  },
  {
    name: "search",
    namespace: "shop",
    team: "discovery",
    language: "java",
    weight: 9,
    replicas: 3,
    staging: false,
    versions: ["3.2.1", "3.2.0"],
    routes: [endpoint("GET", "/v1/search"), endpoint("GET", "/v1/suggest")],
    loggers: ["com.shop.search.SearchResource", "com.shop.search.QueryPlanner"],
    upstreams: ["opensearch:9200", "catalog:8080"],
    medianMs: 35,
  },
  {
    name: "cart",
    namespace: "shop",
    team: "checkout",
    language: "go",
    weight: 8,
    replicas: 3,
    staging: true,
    versions: ["0.42.0", "0.41.3"],
    routes: [
      endpoint("GET", "/v1/carts/{id}"),
      endpoint("POST", "/v1/carts/{id}/items"),
      endpoint("DELETE", "/v1/carts/{id}/items/{item}"),
    ],
    loggers: ["cart/handler", "cart/store"],
    upstreams: ["redis-cart:6379", "catalog:8080"],
    medianMs: 6,
  },
  {
    name: "checkout",
    namespace: "checkout",
    team: "checkout",
    language: "java",
    weight: 6,
    replicas: 3,
    staging: true,
    versions: ["5.0.3", "5.0.2"],
    routes: [endpoint("POST", "/v1/checkouts"), endpoint("POST", "/v1/checkouts/{id}/confirm")],
    loggers: ["com.shop.checkout.CheckoutService", "com.shop.checkout.OrderWriter"],
    upstreams: ["payments:8443", "inventory:8080", "shipping:8000", "postgres-orders:5432"],
    medianMs: 120,
  },
  {
    name: "identity",
    namespace: "auth",
    team: "identity",
    language: "go",
    weight: 6,
    replicas: 3,
    staging: false,
    versions: ["2.3.0", "2.2.8"],
    routes: [
      endpoint("POST", "/oauth/token"),
      endpoint("POST", "/oauth/introspect"),
      endpoint("POST", "/v1/sessions"),
    ],
    loggers: ["identity/oauth", "identity/session"],
    upstreams: ["postgres-identity:5432", "redis-sessions:6379"],
    medianMs: 9,
  },
  {
    name: "recommendations",
    namespace: "ml",
    team: "discovery",
    language: "python",
    weight: 5,
    replicas: 2,
    staging: false,
    versions: ["0.19.2", "0.19.1"],
    routes: [endpoint("GET", "/v1/recommendations"), endpoint("POST", "/v1/events")],
    loggers: ["recommendations.api", "recommendations.model"],
    upstreams: ["feature-store:6379", "catalog:8080"],
    medianMs: 60,
  },
  {
    name: "payments",
    namespace: "checkout",
    team: "payments",
    language: "go",
    weight: 3,
    replicas: 2,
    staging: false,
    versions: ["7.1.0", "7.0.4"],
    routes: [
      endpoint("POST", "/v1/payments"),
      endpoint("POST", "/v1/payments/{id}/capture"),
      endpoint("POST", "/v1/refunds"),
    ],
    loggers: ["payments/charge", "payments/provider"],
    upstreams: ["api.stripe.com:443", "postgres-payments:5432"],
    medianMs: 240,
  },
  {
    name: "notifications",
    namespace: "messaging",
    team: "growth",
    language: "node",
    weight: 3,
    replicas: 2,
    staging: false,
    versions: ["1.9.0", "1.8.7"],
    routes: [endpoint("POST", "/v1/notifications"), endpoint("POST", "/v1/emails")],
    loggers: ["notifications:email", "notifications:push"],
    upstreams: ["smtp-relay:587", "fcm.googleapis.com:443"],
    medianMs: 30,
  },
  {
    name: "inventory",
    namespace: "shop",
    team: "fulfilment",
    language: "java",
    weight: 3,
    replicas: 2,
    staging: false,
    versions: ["1.4.2", "1.4.1"],
    routes: [endpoint("GET", "/v1/stock/{sku}"), endpoint("POST", "/v1/reservations")],
    loggers: ["com.shop.inventory.StockResource", "com.shop.inventory.ReservationJob"],
    upstreams: ["postgres-inventory:5432"],
    medianMs: 8,
  },
  {
    name: "shipping",
    namespace: "fulfilment",
    team: "fulfilment",
    language: "python",
    weight: 1,
    replicas: 2,
    staging: false,
    versions: ["2.0.1", "2.0.0"],
    routes: [endpoint("POST", "/v1/quotes"), endpoint("POST", "/v1/shipments")],
    loggers: ["shipping.quotes", "shipping.carriers"],
    upstreams: ["api.carrier.example:443", "postgres-shipping:5432"],
    medianMs: 150,
  },
];

/** `[region, zones, nodes]` of each cluster. */
const CLUSTERS: Readonly<Record<string, readonly [string, readonly string[], number]>> = {
  "prod-eu": ["eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"], 9],
  "prod-us": ["us-east-1", ["us-east-1a", "us-east-1b", "us-east-1d"], 6],
  "staging": ["eu-west-1", ["eu-west-1a", "eu-west-1b"], 3],
};

/** Share of the lines from staging, relative to production's 1. */
const STAGING_WEIGHT = 0.06;
/** Share of the production lines served by `prod-us`; the rest by `prod-eu`. */
const US_SHARE = 0.35;

const LEVEL_WEIGHTS: Readonly<Record<WideEnv, readonly (readonly [Level, number])[]>> = {
  prod: [["info", 90], ["warn", 7], ["error", 3]],
  staging: [["debug", 30], ["info", 60], ["warn", 7], ["error", 3]],
};

/** The levels lines of `env` are logged at. */
export const LEVELS_OF: Readonly<Record<WideEnv, Weighted<Level>>> = {
  prod: new Weighted(LEVEL_WEIGHTS.prod),
  staging: new Weighted(LEVEL_WEIGHTS.staging),
};

/** Kubernetes' alphabet of generated names (no vowels, no look-alikes). */
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** `n` characters of {@linkcode NAME_ALPHABET}, a pure function of `key`. */
function k8sName(key: number, n: number): string {
  let out = "";
  for (let h = fmix32(key); out.length < n; h = fmix32(h + 0x9e3779b9)) {
    out += NAME_ALPHABET[h % NAME_ALPHABET.length];
  }
  return out;
}

function nodes(cluster: string): Node[] {
  const [region, zones, count] = CLUSTERS[cluster];
  return Array.from({ length: count }, (_, i) => {
    const h = fmix32(0x6e6f6465 ^ (i + 31 * cluster.length));
    // EC2's private DNS names: us-east-1 has its own domain.
    const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
    return {
      name: `ip-10-${(h >>> 24) % 64}-${(h >>> 8) & 255}-${1 + (h % 254)}.${domain}`,
      region,
      zone: zones[i % zones.length],
      cluster,
    };
  });
}

const NODES: Readonly<Record<string, Node[]>> = Object.fromEntries(
  Object.keys(CLUSTERS).map((cluster) => [cluster, nodes(cluster)]),
);

function streamLabels(
  service: WideService,
  env: WideEnv,
): Readonly<Record<Level, Readonly<Record<string, string>>>> {
  const make = (level: Level) =>
    Object.freeze({ app: service.name, env, namespace: service.namespace, level });
  return Object.freeze({
    debug: make("debug"),
    info: make("info"),
    warn: make("warn"),
    error: make("error"),
  });
}

/** The pods of `service` in `cluster`, spread over its nodes; `serial` numbers the deployment. */
function pods(
  service: WideService,
  env: WideEnv,
  cluster: string,
  serial: number,
  labels: Pod["labels"],
): Pod[] {
  const replicas = env === "staging" ? 1 : service.replicas;
  const clusterNodes = NODES[cluster];
  const hashes = service.versions.map((_, v) => k8sName(serial * 2 + v, 10));
  return Array.from({ length: replicas }, (_, r) => {
    // In production a third of the pods (at least one) run the version being rolled out.
    const canary = env === "prod" && r < Math.ceil(replicas / 3);
    const v = env === "staging" || canary ? 0 : 1;
    return {
      service,
      env,
      name: `${service.name}-${hashes[v]}-${k8sName(serial * 64 + r + 7, 5)}`,
      node: clusterNodes[fmix32(serial * 131 + r) % clusterNodes.length],
      version: service.versions[v],
      templateHash: hashes[v],
      canary,
      labels,
    };
  });
}

function buildPods(): Weighted<Pod> {
  const pairs: [Pod, number][] = [];
  let serial = 0;
  const add = (service: WideService, env: WideEnv, clusters: readonly [string, number][]) => {
    // One label object per service and env, shared by the pods of every cluster.
    const labels = streamLabels(service, env);
    for (const [cluster, share] of clusters) {
      const list = pods(service, env, cluster, ++serial, labels);
      for (const pod of list) pairs.push([pod, (service.weight * share) / list.length]);
    }
  };
  for (const service of SERVICES) {
    add(service, "prod", [["prod-eu", 1 - US_SHARE], ["prod-us", US_SHARE]]);
    if (service.staging) add(service, "staging", [["staging", STAGING_WEIGHT]]);
  }
  return new Weighted(pairs);
}

/** Every pod, weighted by its share of the lines. */
export const PODS: Weighted<Pod> = buildPods();

/**
 * Every label set the wide corpus can emit: production logs at `info`, `warn` and `error`,
 * staging also at `debug`.
 *
 * @example Count the possible streams
 * ```ts
 * import { WIDE_LABEL_SETS } from "./wide_topology.ts";
 * console.log(WIDE_LABEL_SETS.length); // 56
 * ```
 */
export const WIDE_LABEL_SETS: readonly Readonly<Record<string, string>>[] = Object.freeze(
  SERVICES.flatMap((s) =>
    (s.staging ? ["prod", "staging"] as const : ["prod"] as const).flatMap((env) =>
      LEVEL_WEIGHTS[env].map(([level]) =>
        Object.freeze({ app: s.name, env, namespace: s.namespace, level })
      )
    )
  ),
);
