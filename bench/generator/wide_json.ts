/**
 * A second benchmark corpus, of another shape than the main one (`LogGenerator` of `./mod.ts`):
 * long structured JSON lines with many fields, as OpenTelemetry, Kubernetes and cloud pipelines ship them
 * (about 1 kB, from 850 to 1,550 bytes; 30–40 fields, nested objects and an array):
 *
 * ```json
 * {"timestamp":"2026-11-21T00:00:01.234567Z","level":"info","message":"GET /cart 200 41.2ms",
 *  "service":"storefront","version":"4.30.2","env":"prod","region":"eu-west-1",
 *  "host":"ip-10-3-17-42.eu-west-1.compute.internal","logger":"storefront:http",
 *  "trace_id":"<32 hex>","span_id":"<16 hex>","parent_span_id":"<16 hex>","user_id":"usr_1234",
 *  "session_id":"<16 hex>","request_id":"<uuid>","duration_ms":41.237,
 *  "http":{"method":"GET","route":"/cart","status":200,"request_bytes":0,"response_bytes":5120,
 *          "user_agent":"Mozilla/5.0 …","client_ip":"81.2.69.160"},
 *  "kubernetes":{"namespace":"web","pod":"storefront-…","container":"storefront","node":"ip-…",
 *                "labels":{"app":"storefront","pod-template-hash":"…","team":"web",…}},
 *  "attributes":{…},"tags":["team:web","lang:node"]}
 * ```
 *
 * Error lines also carry `error: {type, message, stack}` with a stack trace in the service's
 * language; Java services add `thread`. Services, pods and levels are skewed as in a real fleet
 * (two services make 40% of the lines; {@linkcode WIDE_LABEL_SETS} lists the 56 streams, labels
 * `app`, `env`, `namespace`, `level`, each equal to the line's `service`, `env`,
 * `kubernetes.namespace` and `level`).
 *
 * Like `LogGenerator`, line `N` is a pure function of `(seed, N)`, its timestamp lies
 * in slot `N` of the time line (so timestamps never decrease), and its trace id occurs in no
 * other line of the seed; the `timestamp` field is the entry's time to the microsecond.
 *
 * @module
 */

import { fmix32, hex8, Rng } from "../../testing/prng.ts";
import type { LogEntry } from "./mod.ts";
import { type LogGeneratorOptions, Timeline } from "./timeline.ts";
import type { Level } from "./topology.ts";
import { API_CLIENT_AGENTS, clientIp, USER_AGENTS } from "./vocabulary.ts";
import { errorOf, event, type Request, statusOf } from "./wide_messages.ts";
import { LEVELS_OF, type Pod, PODS } from "./wide_topology.ts";

export { WIDE_LABEL_SETS } from "./wide_topology.ts";

/** The domain of the wide corpora in {@linkcode Timeline}: their trace ids differ from the main one's. */
const DOMAIN = 0x13198a2e;

/** User agents of the services calling each other. */
const SERVICE_AGENTS: readonly string[] = [
  "Go-http-client/2.0",
  "okhttp/4.12.0",
  "python-requests/2.32.3",
  "node-fetch/3.3.2",
];

/** Signed-in users; a few are very active. */
const USERS = 400_000;
/** Share of requests with a signed-in user. */
const SIGNED_IN = 0.75;
/** Share of spans with a parent (the rest start their trace). */
const CHILD_SPANS = 0.7;

/**
 * Generates wide JSON log entries as a pure function of a seed and a line index.
 *
 * @example Generate a line and read its fields
 * ```ts
 * import { WideJsonGenerator } from "./wide_json.ts";
 * const entry = new WideJsonGenerator({ seed: 42 }).at(0);
 * const record = JSON.parse(entry.line);
 * console.log(entry.labels.app === record.service, record.http.status); // true, a status
 * ```
 */
export class WideJsonGenerator {
  /** The seed this generator was created with. */
  readonly seed: number;
  /** Unix nanoseconds of line 0. */
  readonly start: bigint;
  /** Lines per second of log time. */
  readonly rate: number;

  readonly #timeline: Timeline;
  readonly #rng = new Rng();

  /**
   * @param options Seed, start and rate; all optional, as for `LogGenerator`.
   * @throws {RangeError} If the seed is not a safe integer, rate is not in (0, 1e9], or start is
   * negative.
   */
  constructor(options: LogGeneratorOptions = {}) {
    this.#timeline = new Timeline(options, DOMAIN);
    this.seed = this.#timeline.seed;
    this.start = this.#timeline.start;
    this.rate = this.#timeline.rate;
  }

  /**
   * The trace id of line `index`: 32 lowercase hex digits that occur in no other line of this
   * seed.
   *
   * @example
   * ```ts
   * import { WideJsonGenerator } from "./wide_json.ts";
   * const gen = new WideJsonGenerator({ seed: 7 });
   * console.log(JSON.parse(gen.at(99).line).trace_id === gen.traceIdAt(99)); // true
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  traceIdAt(index: number): string {
    return this.#timeline.traceIdAt(index);
  }

  /**
   * The entry at `index`.
   *
   * @example
   * ```ts
   * import { WideJsonGenerator } from "./wide_json.ts";
   * const { ts, labels, line } = new WideJsonGenerator().at(123);
   * console.log(ts > 0n, labels.namespace, line.length > 500); // true … true
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  at(index: number): LogEntry {
    const r = this.#rng;
    const place = this.#timeline.begin(index, r);
    const pod = PODS.pick(r);
    const service = pod.service;
    const level = LEVELS_OF[pod.env].pick(r);
    const [method, route] = r.pick(service.routes);
    const status = statusOf(r, level, method);
    const signedIn = r.float() < SIGNED_IN;
    const q: Request = {
      service,
      method,
      route,
      status,
      durationMs: duration(r, service.medianMs, level, status),
      user: signedIn ? `usr_${r.skewed(USERS, 2.5)}` : undefined,
      upstream: r.pick(service.upstreams),
    };
    const { message, attributes } = event(r, level, q);
    const record: Record<string, unknown> = {
      timestamp: this.#timeline.iso(place),
      level,
      message,
      service: service.name,
      version: pod.version,
      env: pod.env,
      region: pod.node.region,
      host: pod.node.name,
      logger: r.pick(service.loggers),
    };
    if (service.language === "java") record.thread = `http-nio-8080-exec-${r.skewed(200, 2)}`;
    record.trace_id = place.traceId;
    record.span_id = hex8(r.u32()) + hex8(r.u32());
    if (r.float() < CHILD_SPANS) record.parent_span_id = hex8(r.u32()) + hex8(r.u32());
    if (q.user !== undefined) record.user_id = q.user;
    record.session_id = sessionId(r, q.user);
    record.request_id = uuid(r);
    record.duration_ms = q.durationMs;
    const edge = service.name === "storefront" || service.name === "api-gateway";
    record.http = {
      method,
      route,
      status,
      request_bytes: method === "GET" || method === "DELETE" ? 0 : r.range(120, 4000),
      response_bytes: status === 204 || status === 304
        ? 0
        : status >= 400
        ? r.range(60, 400)
        : 200 + r.skewed(60_000, 2),
      user_agent: r.pick(
        !edge ? SERVICE_AGENTS : service.name === "storefront" ? USER_AGENTS : API_CLIENT_AGENTS,
      ),
      client_ip: edge ? clientIp(r) : `10.${r.range(0, 63)}.${r.below(256)}.${r.range(1, 254)}`,
    };
    record.kubernetes = {
      namespace: service.namespace,
      pod: pod.name,
      container: service.name,
      node: pod.node.name,
      labels: {
        app: service.name,
        "pod-template-hash": pod.templateHash,
        team: service.team,
        version: pod.version,
      },
    };
    record.attributes = attributes;
    record.tags = tags(pod);
    if (level === "error") record.error = errorOf(r, q);
    return { ts: place.ts, labels: pod.labels[level], line: JSON.stringify(record) };
  }
}

/**
 * A request's duration in ms, to the microsecond: log-normal around the service's median, slow
 * when a warning says so (a 200 at warn), about 30 s on a gateway timeout.
 */
function duration(r: Rng, medianMs: number, level: Level, status: number): number {
  // Box–Muller: a standard normal draw.
  const z = Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float());
  let ms = medianMs * Math.exp(0.8 * z);
  if (status === 504) ms = 30_000 + ms;
  else if (level === "warn" && status === 200) ms = 1000 + 20 * ms;
  return Math.round(ms * 1000) / 1000;
}

/** A signed-in user's session (each user has a few), or a fresh one for an anonymous request. */
function sessionId(r: Rng, user: string | undefined): string {
  if (user === undefined) return hex8(r.u32()) + hex8(r.u32());
  const n = Number(user.slice(4)) * 4 + r.below(3);
  const h = fmix32(n ^ 0x5e55);
  return hex8(h) + hex8(fmix32(h + n));
}

/** A random (version 4) UUID. */
function uuid(r: Rng): string {
  const a = hex8(r.u32());
  const b = hex8(r.u32());
  const c = hex8(r.u32());
  const d = hex8(r.u32());
  const variant = "89ab"[r.below(4)];
  return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/** The tags of a pod's lines: team and language, `canary` on a rolling-out version, `pci`. */
function tags(pod: Pod): string[] {
  const s = pod.service;
  const out = [`team:${s.team}`, `lang:${s.language}`];
  if (pod.canary) out.push("canary");
  if (s.namespace === "checkout") out.push("pci");
  return out;
}
