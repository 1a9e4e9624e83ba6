/**
 * A deterministic generator of realistic logs for benchmarks and load tests.
 *
 * Every line is a pure function of `(seed, index)`: line `N` can be produced without generating
 * lines `0..N-1`, several producers can split one corpus by index range, and a benchmark can learn
 * a needle (the trace id of line `N`) in O(1). Nothing here uses `Math.random`.
 *
 * The corpus mixes two kinds of lines, the way a small web shop's logs would:
 *
 * - web access lines in combined log format (services `nginx` and `gateway`, about 40%):
 *   `203.0.113.9 - - [21/Nov/2026:11:25:56 +0000] "GET /api/v1/users/48213 HTTP/1.1" 200 5123
 *   "-" "Mozilla/5.0 …" rt=0.023 trace_id=<32 hex>`
 * - structured JSON application lines (every other service):
 *   `{"ts":"2026-11-21T11:25:56.123456Z","level":"info","logger":"payments","msg":"payment
 *   captured","trace_id":"<32 hex>","span_id":"<16 hex>","user_id":"u_1234",…}`
 *
 * Labels are `app`, `env`, `level`, `host` and `service`, with bounded cardinality: every host
 * belongs to one app and one environment and runs one or two of that app's services, so the number
 * of distinct label sets is {@linkcode LABEL_SETS}`.length` (under 150). High-cardinality values
 * (trace ids, user ids, request ids, order ids) occur only inside lines.
 *
 * Every line carries a trace id that occurs in no other line of the same seed (its first 32 bits
 * are a bijection of the line index), which makes any trace id a needle with exactly one hit.
 *
 * @module
 */

/** One generated log line with its stream labels and timestamp. */
export interface LogEntry {
  /** Unix time in nanoseconds; non-decreasing with the line index. */
  ts: bigint;
  /**
   * The stream's label set. The object is frozen and shared by every entry of the same stream,
   * so entries can be grouped by identity.
   */
  labels: Readonly<Record<string, string>>;
  /** The log line, without a trailing newline. */
  line: string;
}

/** Options of {@linkcode LogGenerator}. */
export interface LogGeneratorOptions {
  /** Seed of the corpus; any safe integer. Default `42`. */
  seed?: number;
  /** Unix time in nanoseconds of line 0. Default {@linkcode DEFAULT_START_NS}. */
  start?: bigint;
  /**
   * Lines per second of log time: line `N` is stamped within
   * `[start + N / rate, start + (N + 1) / rate)` seconds. Default `200`, at most `1e9`.
   */
  rate?: number;
}

/** A trace id that occurs in exactly one line of a corpus, and that line. */
export interface Needle {
  /** Index of the only line containing {@linkcode Needle.traceId}. */
  index: number;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** The entry at {@linkcode Needle.index}. */
  entry: LogEntry;
}

/** The default start of a corpus: 2026-11-21T00:00:00Z, in Unix nanoseconds. */
export const DEFAULT_START_NS: bigint = 1_795_219_200_000_000_000n;

/** The label names every entry carries, in the order they appear in its labels object. */
export const LABEL_NAMES: readonly string[] = Object.freeze([
  "app",
  "env",
  "level",
  "host",
  "service",
]);

// ---------------------------------------------------------------------------------------------
// Hashing and the seeded PRNG.

/** MurmurHash3's 32-bit finalizer: a bijection on uint32 with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32, re-seeded once per line. */
class Rng {
  state = 0;
  /** A uint32. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }
  /** An integer in [1, n], skewed towards small values (a few ids are very common). */
  skewed(n: number, power: number): number {
    return 1 + Math.floor(n * Math.pow(this.float(), power));
  }
}

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

function hex8(w: number): string {
  return HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

/** A weighted choice, precomputed as a cumulative table. */
class Weighted<T> {
  readonly #items: T[];
  readonly #cumulative: number[];
  constructor(pairs: readonly (readonly [T, number])[]) {
    this.#items = pairs.map(([item]) => item);
    let sum = 0;
    this.#cumulative = pairs.map(([, weight]) => (sum += weight));
    this.#cumulative = this.#cumulative.map((c) => c / sum);
  }
  pick(rng: Rng): T {
    const x = rng.float();
    const c = this.#cumulative;
    for (let i = 0; i < c.length - 1; i++) if (x < c[i]) return this.#items[i];
    return this.#items[c.length - 1];
  }
}

// ---------------------------------------------------------------------------------------------
// Topology: apps, hosts, services and the streams they make.

type Level = "debug" | "info" | "warn" | "error";
const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

type Env = "prod" | "staging" | "dev";

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
interface Source {
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

const SOURCES: Weighted<Source> = buildSources();

/**
 * Every label set the generator can emit: the universe of streams. Access-log services never log
 * at `debug`, so a corpus uses a subset of these.
 *
 * @example Count the possible streams
 * ```ts
 * import { LABEL_SETS } from "./log_generator.ts";
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

// ---------------------------------------------------------------------------------------------
// Vocabulary.

const PRODUCTS: readonly string[] = (
  "wireless headphones|running shoes|coffee grinder|standing desk|yoga mat|water bottle|" +
  "backpack|mechanical keyboard|gaming mouse|usb c charger|phone case|screen protector|" +
  "winter jacket|rain boots|wool socks|leather wallet|sunglasses|smart watch|fitness tracker|" +
  "bluetooth speaker|desk lamp|office chair|monitor arm|laptop stand|notebook|fountain pen|" +
  "cast iron skillet|chef knife|cutting board|french press|tea kettle|espresso machine|" +
  "air fryer|rice cooker|blender|toaster|vacuum cleaner|air purifier|humidifier|space heater|" +
  "electric toothbrush|hair dryer|shampoo|sunscreen|face mask|throw pillow|duvet cover|" +
  "bath towel|shower curtain|picture frame|wall clock|plant pot|garden hose|tent|sleeping bag|" +
  "camping stove|hiking poles|bike helmet|bike lock|tennis racket|basketball|soccer ball|" +
  "board game|jigsaw puzzle|paperback novel|cookbook|kids toys|baby monitor|dog leash|cat tree|" +
  "aquarium filter|bird feeder|printer paper|ink cartridge|external hard drive|memory card|" +
  "hdmi cable|webcam|microphone|ring light|tripod|drone|action camera|e reader|tablet|" +
  "gift card|birthday candles|wrapping paper|travel adapter|suitcase|neck pillow"
).split("|");

const SLUGS: readonly string[] = PRODUCTS.map((p) => p.replaceAll(" ", "-"));
const QUERIES: readonly string[] = PRODUCTS.map((p) => p.replaceAll(" ", "+"));

const CATEGORIES: readonly string[] = (
  "electronics kitchen outdoors fitness home garden office toys books pets beauty travel " +
  "clothing shoes accessories audio cameras gaming"
).split(" ");

const BLOG_POSTS: readonly string[] = (
  "how-to-choose-running-shoes|best-coffee-grinders-of-the-year|setting-up-a-home-office|" +
  "spring-cleaning-checklist|camping-for-beginners|gift-ideas-for-dads|holiday-shipping-deadlines|" +
  "caring-for-cast-iron|our-sustainability-report|meet-the-team"
).split("|");

const USER_AGENTS: readonly string[] = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
  "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "curl/8.5.0",
  "python-requests/2.32.3",
  "okhttp/4.12.0",
  "Go-http-client/2.0",
  "kube-probe/1.31",
];

const API_CLIENT_AGENTS: readonly string[] = [
  "shop-ios/5.12.0 (iPhone; iOS 18.1)",
  "shop-android/5.11.2 (Pixel 8; Android 14)",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "partner-sync/2.3.1",
  "python-requests/2.32.3",
  "Go-http-client/2.0",
  "node-fetch/3.3.2",
];

const REFERERS: readonly string[] = [
  "https://shop.example.com/",
  "https://shop.example.com/cart",
  "https://shop.example.com/checkout",
  "https://shop.example.com/account/orders",
  "https://www.google.com/",
  "https://www.bing.com/",
  "https://duckduckgo.com/",
  "https://t.co/",
  "https://www.facebook.com/",
  "https://news.ycombinator.com/",
];

const MONTHS: readonly string[] = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

const TABLES: readonly string[] = (
  "users orders order_items products carts sessions payments invoices refunds addresses " +
  "inventory shipments coupons audit_log"
).split(" ");

const JOBS: readonly string[] = (
  "send_order_confirmation|sync_inventory|generate_sitemap|reindex_products|expire_carts|" +
  "charge_subscriptions|export_orders_csv|resize_product_images|recalculate_recommendations|" +
  "purge_deleted_accounts|send_abandoned_cart_email|reconcile_payouts|rotate_api_keys|" +
  "refresh_exchange_rates|compute_daily_report"
).split("|");

const QUEUES: readonly string[] = "default critical emails images reports billing search".split(
  " ",
);

const EMAIL_TEMPLATES: readonly string[] = (
  "order_confirmation shipping_update password_reset welcome abandoned_cart invoice " +
  "review_request newsletter account_locked"
).split(" ");

const MAIL_DOMAINS: readonly string[] = (
  "gmail.com outlook.com yahoo.com icloud.com proton.me hotmail.com example.org fastmail.com"
).split(" ");

const UPSTREAMS: readonly string[] = (
  "users:8080 orders:8080 catalog:8080 payments:8443 auth:9000 search:9200 inventory:8080 " +
  "recommendations:8080"
).split(" ");

const PEERS: readonly string[] = (
  "10.0.3.7:5432 10.0.3.8:5432 10.0.4.12:6379 10.0.4.13:6379 10.0.5.21:9200 10.0.5.22:9200 " +
  "10.0.6.2:587 10.0.7.40:389 10.0.2.15:8080 10.0.2.16:8080"
).split(" ");

const PROVIDERS: readonly string[] = ["stripe", "adyen", "paypal", "braintree"];
const CURRENCIES: readonly string[] = ["USD", "EUR", "GBP", "CAD", "AUD", "JPY"];
const PLANS: readonly string[] = ["free", "basic", "plus", "business", "enterprise"];
const INDEXES: readonly string[] = ["products-v7", "orders-v3", "reviews-v2", "help-articles-v1"];
const COUNTRIES: readonly string[] = "US GB DE FR CA AU NL SE ES IT JP BR IN".split(" ");
const MFA: readonly string[] = ["totp", "sms", "webauthn", "email"];
const ROUTES: readonly string[] = (
  "/ /products/:slug /cart /checkout /checkout/payment /account /account/orders /search " +
  "/category/:name /login /signup /help /blog/:slug"
).split(" ");
const FLAGS: readonly string[] = (
  "new_checkout_flow dark_mode one_click_reorder recommendations_v2 free_shipping_banner " +
  "search_spellcheck"
).split(" ");
const ERRORS: readonly string[] = [
  "dial tcp {peer}: connect: connection refused",
  "read tcp {peer}: read: connection reset by peer",
  "context canceled",
  "unexpected EOF",
  "pq: deadlock detected",
  "pq: duplicate key value violates unique constraint",
  "redis: connection pool exhausted",
  "x509: certificate has expired or is not yet valid",
  "json: cannot unmarshal string into Go value of type int",
  "lookup {upstream}: no such host",
  "http2: stream closed",
  "write: broken pipe",
  "read tcp {peer}: i/o timeout",
  "dial tcp {peer}: i/o timeout",
  "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
];

// ---------------------------------------------------------------------------------------------
// JSON line templates. A template is "message|field field …": each field names a generator
// below that appends `,"key":value` to the line. Values never need JSON escaping.

type Field = (rng: Rng, out: string[]) => void;

function expandError(rng: Rng): string {
  return rng.pick(ERRORS).replace("{peer}", rng.pick(PEERS)).replace("{upstream}", () => {
    return rng.pick(UPSTREAMS).split(":")[0];
  });
}

const FIELDS: Readonly<Record<string, Field>> = {
  user: (r, o) => o.push(`,"user_id":"u_${r.skewed(250_000, 2.5)}"`),
  order: (r, o) => o.push(`,"order_id":"ord_${hex8(r.u32()).slice(0, 7)}"`),
  amount: (r, o) => o.push(`,"amount_cents":${r.range(199, 4999) * (1 + r.below(3))}`),
  currency: (r, o) => o.push(`,"currency":"${r.pick(CURRENCIES)}"`),
  provider: (r, o) => o.push(`,"provider":"${r.pick(PROVIDERS)}"`),
  dur: (r, o) => o.push(`,"duration_ms":${Math.round(2 + 40 * -Math.log(1 - r.float()))}`),
  slow: (r, o) => o.push(`,"duration_ms":${r.range(1200, 9000)}`),
  req: (r, o) => o.push(`,"request_id":"req_${hex8(r.u32())}${hex8(r.u32()).slice(0, 4)}"`),
  table: (r, o) => o.push(`,"table":"${r.pick(TABLES)}"`),
  rows: (r, o) => o.push(`,"rows":${r.skewed(500, 3) - 1}`),
  peer: (r, o) => o.push(`,"peer":"${r.pick(PEERS)}"`),
  upstream: (r, o) => o.push(`,"upstream":"${r.pick(UPSTREAMS)}"`),
  err: (r, o) => o.push(`,"error":"${expandError(r)}"`),
  attempt: (r, o) => o.push(`,"attempt":${r.range(1, 5)}`),
  job: (r, o) =>
    o.push(`,"job":"${r.pick(JOBS)}","job_id":"job_${hex8(r.u32())}","queue":"${r.pick(QUEUES)}"`),
  depth: (r, o) => o.push(`,"queue":"${r.pick(QUEUES)}","depth":${r.range(500, 25000)}`),
  batch: (r, o) => o.push(`,"batch_size":${r.range(10, 500)}`),
  email: (r, o) =>
    o.push(`,"template":"${r.pick(EMAIL_TEMPLATES)}","to_domain":"${r.pick(MAIL_DOMAINS)}"`),
  msgid: (r, o) => o.push(`,"message_id":"<${hex8(r.u32())}.${hex8(r.u32())}@mail.example.com>"`),
  query: (r, o) => o.push(`,"query":"${r.pick(PRODUCTS)}"`),
  hits: (r, o) => o.push(`,"hits":${r.skewed(2000, 3) - 1}`),
  index: (r, o) => o.push(`,"index":"${r.pick(INDEXES)}"`),
  docs: (r, o) => o.push(`,"docs":${r.range(1, 5000)}`),
  shard: (r, o) => o.push(`,"shard":${r.below(12)}`),
  key: (r, o) => o.push(`,"key":"${r.pick(TABLES)}:${r.skewed(250_000, 2)}"`),
  ip: (r, o) => o.push(`,"client_ip":"${clientIp(r)}"`),
  session: (r, o) => o.push(`,"session_id":"s_${hex8(r.u32())}${hex8(r.u32())}"`),
  mfa: (r, o) => o.push(`,"method":"${r.pick(MFA)}"`),
  country: (r, o) => o.push(`,"country":"${r.pick(COUNTRIES)}"`),
  plan: (r, o) => o.push(`,"plan":"${r.pick(PLANS)}"`),
  route: (r, o) => o.push(`,"route":"${r.pick(ROUTES)}"`),
  flag: (r, o) => o.push(`,"flag":"${r.pick(FLAGS)}","enabled":${r.below(2) === 1}`),
  invoice: (r, o) => o.push(`,"invoice_id":"inv_${r.range(100000, 999999)}"`),
  product: (r, o) => o.push(`,"product":"${r.pick(SLUGS)}","sku":"SKU-${r.range(10000, 99999)}"`),
  category: (r, o) => o.push(`,"category":"${r.pick(CATEGORIES)}"`),
  bytes: (r, o) => o.push(`,"bytes":${r.range(200, 2_000_000)}`),
  pool: (r, o) =>
    o.push(
      `,"pool_open":${r.range(5, 50)},"pool_idle":${r.range(0, 10)},"pool_wait":${r.below(8)}`,
    ),
  gc: (r, o) => o.push(`,"pause_ms":${r.range(1, 180)},"heap_mb":${r.range(120, 2400)}`),
  timeout: (r, o) => o.push(`,"timeout":"${r.pick(["1s", "2s", "5s", "10s", "30s"])}"`),
  status: (r, o) => o.push(`,"status":${r.pick([500, 502, 503, 504])}`),
};

interface Template {
  msg: string;
  fields: Field[];
}

function templates(spec: string): Template[] {
  return spec.trim().split("\n").map((row) => {
    const [msg, fields = ""] = row.trim().split("|");
    return {
      msg,
      fields: fields.split(" ").filter(Boolean).map((name) => {
        const field = FIELDS[name];
        if (field === undefined) throw new Error(`Unknown template field "${name}" in "${row}"`);
        return field;
      }),
    };
  });
}

type Pools = Readonly<Record<Level, readonly Template[]>>;

function pools(debug: string, info: string, warn: string, error: string): Pools {
  return {
    debug: templates(debug),
    info: templates(info),
    warn: templates(warn),
    error: templates(error),
  };
}

/** Messages any JSON service may log. */
const COMMON: Pools = pools(
  `cache miss|key
   cache hit|key dur
   sql query executed|table rows dur
   acquired connection from pool|peer dur
   outgoing http request|upstream timeout dur
   config reloaded|`,
  `health check ok|dur
   connection pool stats|pool
   gc completed|gc
   metrics flushed|bytes dur
   feature flags refreshed|`,
  `cache miss storm detected|key
   connection pool exhausted, waiting for a free connection|pool
   gc pause exceeded 100ms|gc
   retrying request after error|upstream attempt timeout err
   clock skew detected against ntp server|`,
  `connection refused|peer err
   timeout waiting for upstream|upstream slow
   context deadline exceeded|upstream slow
   connection reset by peer|peer err
   unexpected EOF reading response body|upstream
   too many open files|
   failed to publish metrics|err`,
);

const SERVICE_POOLS: Readonly<Record<string, Pools>> = {
  frontend: pools(
    `rendering template|route
     feature flag evaluated|flag user
     asset manifest loaded|bytes`,
    `page rendered|route user dur
     session refreshed|session user
     user signed in|user session country
     added item to cart|user product
     checkout started|user order amount currency
     served cached page|route dur
     experiment assigned|user flag`,
    `slow render|route slow
     missing translation key|route country
     session cookie expired|session
     upstream responded slowly, serving stale page|upstream slow timeout`,
    `failed to render page|route err
     csrf token mismatch|session ip
     upstream returned an error|upstream status`,
  ),
  users: pools(
    `loading user profile|user
     decoded request body|req bytes`,
    `user profile updated|user req dur
     user created|user country plan
     password changed|user req
     preferences saved|user
     avatar uploaded|user bytes dur
     fetched user list|rows dur`,
    `rate limit approaching|user req
     deprecated api version used|req
     slow query|table slow
     validation failed: email address is invalid|user req`,
    `database connection refused|peer err
     query timeout|table slow
     failed to update profile|user err
     unique constraint violation on users.email|user`,
  ),
  auth: pools(
    `token introspection|session
     jwks cache refreshed|
     loaded signing key|`,
    `login succeeded|user ip country
     token issued|user session
     token refreshed|user session
     logout|user session
     mfa challenge sent|user mfa
     mfa verified|user mfa
     password reset requested|user ip`,
    `login failed: invalid password|user ip attempt
     account locked after repeated failures|user ip
     token expired|session
     suspicious login from new device|user ip country
     mfa code rejected|user mfa attempt`,
    `ldap bind failed|peer err
     timeout contacting identity provider|slow
     signing key not found|
     session store unavailable|peer err`,
  ),
  payments: pools(
    `computed tax|order amount country
     fx rate lookup|currency
     provider request sent|provider order`,
    `payment captured|user order amount currency provider dur
     payment authorized|user order amount currency provider dur
     refund issued|user order amount currency provider
     webhook received|provider
     card tokenized|user provider
     subscription renewed|user plan amount currency`,
    `payment declined: insufficient funds|user order amount currency provider
     webhook signature invalid|provider ip
     retrying capture|order provider attempt
     currency conversion rate stale|currency
     3ds challenge required|user order provider`,
    `payment provider timeout|order provider slow
     capture failed|order provider err
     idempotency key conflict|order req
     ledger write failed|order err`,
  ),
  invoices: pools(
    `line items totaled|invoice amount
     tax rules loaded|country`,
    `invoice generated|invoice user amount currency
     invoice emailed|invoice user
     invoice paid|invoice user amount currency
     credit note issued|invoice amount currency`,
    `invoice overdue|invoice user
     pdf render slow|invoice slow
     missing billing address|user invoice`,
    `failed to render invoice pdf|invoice err
     smtp timeout sending invoice|invoice peer`,
  ),
  jobs: pools(
    `polling queue|depth
     lease acquired|job
     heartbeat sent|job`,
    `job started|job
     job started|job timeout
     job completed|job dur
     job enqueued|job
     scheduled job triggered|job
     batch processed|job batch dur`,
    `job retry scheduled|job attempt err
     queue depth high|depth
     job exceeded soft deadline|job slow
     lease lost, re-queueing|job`,
    `job failed|job err
     job timeout exceeded|job slow
     message dead-lettered after max attempts|job attempt
     redis connection reset by peer|peer`,
  ),
  mailer: pools(
    `rendering email template|email
     dkim signature computed|msgid`,
    `email sent|email msgid dur
     email queued|email
     bounce processed|email
     unsubscribe recorded|user email`,
    `smtp server responded 451, will retry|email attempt
     recipient domain throttled|email
     template variable missing|email`,
    `smtp connection refused|peer err
     timeout waiting for smtp greeting|peer slow
     failed to render email template|email err`,
  ),
  indexer: pools(
    `flushing translog|index shard
     mapping updated|index`,
    `indexed documents|index docs dur
     index refreshed|index dur
     segment merge completed|index shard dur
     snapshot created|index bytes`,
    `bulk request partially failed|index docs
     merge throttled|index shard
     index lag high|index docs`,
    `failed to index document|index product err
     shard unavailable|index shard
     circuit breaker tripped: data too large|index bytes`,
  ),
  query: pools(
    `query cache miss|query
     parsed query|query
     scoring with bm25|query hits`,
    `search executed|query hits category dur
     autocomplete served|query dur
     facets computed|query category dur
     query cache hit|query`,
    `slow search query|query slow
     too many clauses, query rewritten|query
     partial results: shard failed|index shard`,
    `search timeout|query index slow
     query parse error|query
     connection refused by search node|peer err`,
  ),
};

/** Share of JSON lines drawn from {@linkcode COMMON} instead of the service's own messages. */
const COMMON_SHARE = 0.25;

// ---------------------------------------------------------------------------------------------
// Access-log vocabulary.

type PathFn = (rng: Rng) => string;

/** Content hashes of the last few deploys' bundles. */
const ASSET_HASHES: readonly string[] = ["3f9a1c2e", "b71d04aa", "0c5e9f13"];
const ASSETS_JS: readonly string[] = ["app", "vendor", "checkout", "search"].flatMap((name) =>
  ASSET_HASHES.map((hash) => `${name}.${hash}`)
);

const NGINX_PATHS: Weighted<readonly [string, PathFn]> = new Weighted<readonly [string, PathFn]>([
  [["GET", () => "/"], 8],
  [["GET", (r) => `/products/${r.pick(SLUGS)}`], 20],
  [["GET", (r) => `/products/${r.pick(SLUGS)}?ref=search&pos=${r.range(1, 24)}`], 5],
  [["GET", (r) => `/category/${r.pick(CATEGORIES)}?page=${r.skewed(20, 2)}`], 6],
  [["GET", (r) => `/search?q=${r.pick(QUERIES)}`], 8],
  [["GET", (r) => `/static/js/${r.pick(ASSETS_JS)}.js`], 10],
  [["GET", (r) => `/static/css/main.${r.pick(ASSET_HASHES)}.css`], 6],
  [["GET", (r) => `/images/products/${r.range(1000, 9999)}-${r.pick([320, 640, 1280])}w.webp`], 14],
  [["GET", () => "/cart"], 4],
  [["POST", () => "/cart/items"], 3],
  [["GET", () => "/checkout"], 2],
  [["POST", () => "/checkout/payment"], 1],
  [["GET", () => "/account/orders"], 2],
  [["GET", () => "/login"], 2],
  [["POST", () => "/login"], 1],
  [["GET", (r) => `/blog/${r.pick(BLOG_POSTS)}`], 2],
  [["GET", () => "/favicon.ico"], 2],
  [["GET", () => "/robots.txt"], 0.5],
  [["GET", () => "/sitemap.xml"], 0.3],
  [["GET", () => "/healthz"], 3],
]);

const GATEWAY_PATHS: Weighted<readonly [string, PathFn]> = new Weighted<readonly [string, PathFn]>(
  [
    [["GET", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}`], 12],
    [["GET", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}/orders?limit=20`], 6],
    [["PATCH", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}`], 2],
    [["GET", (r) => `/api/v1/orders/ord_${hex8(r.u32()).slice(0, 7)}`], 8],
    [["POST", () => "/api/v1/orders"], 3],
    [["GET", (r) => `/api/v2/products?category=${r.pick(CATEGORIES)}&page=${r.skewed(30, 2)}`], 12],
    [["GET", (r) => `/api/v2/products/${r.pick(SLUGS)}`], 14],
    [["GET", (r) => `/api/v1/search?q=${r.pick(QUERIES)}&limit=24`], 10],
    [["GET", (r) => `/api/v1/search/suggest?q=${r.pick(QUERIES).slice(0, r.range(2, 6))}`], 6],
    [["POST", () => "/api/v1/cart/items"], 5],
    [["DELETE", (r) => `/api/v1/cart/items/${r.range(1, 40)}`], 1],
    [["POST", () => "/api/v1/auth/token"], 4],
    [["POST", () => "/api/v1/auth/refresh"], 4],
    [["DELETE", () => "/api/v1/sessions/current"], 1],
    [["POST", () => "/api/v1/payments"], 2],
    [["GET", (r) => `/api/v1/recommendations?user_id=${r.skewed(250_000, 2.5)}`], 5],
    [["GET", () => "/metrics"], 2],
    [["GET", () => "/healthz"], 3],
  ],
);

const STATUSES: Weighted<number> = new Weighted<number>([
  [200, 78],
  [201, 3],
  [204, 2],
  [301, 1.5],
  [302, 2],
  [304, 5],
  [400, 1.5],
  [401, 1.2],
  [403, 0.5],
  [404, 3],
  [429, 0.6],
  [499, 0.3],
  [500, 0.6],
  [502, 0.3],
  [503, 0.3],
  [504, 0.2],
]);

/** A client address from a skewed pool of ~50k public-looking IPv4 addresses. */
function clientIp(r: Rng): string {
  const n = fmix32(r.skewed(50_000, 2) * 0x9e3779b1);
  // First octet from common public ranges.
  const first = [23, 31, 45, 51, 66, 73, 81, 98, 104, 142, 176, 185, 203, 212][n % 14];
  return `${first}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${1 + ((n >>> 24) % 254)}`;
}

// ---------------------------------------------------------------------------------------------
// The generator.

const MAX_INDEX = 2 ** 32;

/**
 * Generates log entries as a pure function of a seed and a line index.
 *
 * @example Generate the first lines of a corpus
 * ```ts
 * import { LogGenerator } from "./log_generator.ts";
 * const gen = new LogGenerator({ seed: 42 });
 * for (const entry of gen.entries(0, 3)) {
 *   console.log(entry.ts, entry.labels, entry.line);
 * }
 * ```
 */
export class LogGenerator {
  /** The seed this generator was created with. */
  readonly seed: number;
  /** Unix nanoseconds of line 0. */
  readonly start: bigint;
  /** Lines per second of log time. */
  readonly rate: number;

  readonly #keys: Uint32Array;
  readonly #interval: number;
  readonly #startMs: number;
  readonly #startSubMsNs: number;
  readonly #rng = new Rng();
  readonly #parts: string[] = [];
  #cachedSecond = NaN;
  #cachedIso = "";
  #cachedClf = "";

  /**
   * @param options Seed, start and rate; all optional.
   * @throws {RangeError} If the seed is not a safe integer, or rate is not in (0, 1e9].
   */
  constructor(options: LogGeneratorOptions = {}) {
    const { seed = 42, start = DEFAULT_START_NS, rate = 200 } = options;
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot create log generator: seed must be a safe integer, got ${seed}`);
    }
    if (!(rate > 0 && rate <= 1e9)) {
      throw new RangeError(`Cannot create log generator: rate must be in (0, 1e9], got ${rate}`);
    }
    if (start < 0n) {
      throw new RangeError(`Cannot create log generator: start must be >= 0, got ${start}`);
    }
    this.seed = seed;
    this.start = start;
    this.rate = rate;
    this.#interval = Math.max(1, Math.round(1e9 / rate));
    this.#startMs = Number(start / 1_000_000n);
    this.#startSubMsNs = Number(start % 1_000_000n);
    // Six per-seed keys, from both halves of the seed.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let k = fmix32(lo ^ fmix32(hi ^ 0x243f6a88));
    this.#keys = new Uint32Array(6);
    for (let i = 0; i < 6; i++) this.#keys[i] = k = fmix32((k + 0x9e3779b9) >>> 0);
  }

  /**
   * The trace id of line `index`: 32 lowercase hex digits that occur in no other line of this
   * seed.
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./log_generator.ts";
   * const gen = new LogGenerator({ seed: 7 });
   * console.log(gen.at(1000).line.includes(gen.traceIdAt(1000))); // true
   * ```
   */
  traceIdAt(index: number): string {
    checkIndex(index);
    const k = this.#keys;
    const w0 = fmix32((index ^ k[0]) >>> 0);
    const w1 = fmix32((w0 ^ k[1]) >>> 0);
    const w2 = fmix32((w1 ^ k[2]) >>> 0);
    const w3 = fmix32((w2 ^ k[3]) >>> 0);
    return hex8(w0) + hex8(w1) + hex8(w2) + hex8(w3);
  }

  /**
   * The entry at `index`.
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./log_generator.ts";
   * const entry = new LogGenerator({ seed: 1 }).at(123);
   * console.log(entry.labels.app, entry.line);
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  at(index: number): LogEntry {
    const traceId = this.traceIdAt(index);
    const rng = this.#rng;
    const k = this.#keys;
    rng.state = fmix32((fmix32((index ^ k[4]) >>> 0) ^ k[5]) >>> 0) | 0;

    // Timestamp: slot `index` of width `interval`, with a uniform jitter inside the slot, so
    // timestamps never decrease.
    const iv = this.#interval;
    const jitter = Math.floor(rng.float() * iv);
    const offset = index * iv + jitter;
    let ts: bigint;
    let ms: number;
    let subMsNs: number;
    if (offset + this.#startSubMsNs < Number.MAX_SAFE_INTEGER) {
      ts = this.start + BigInt(offset);
      const sub = this.#startSubMsNs + offset;
      ms = this.#startMs + Math.floor(sub / 1e6);
      subMsNs = sub % 1e6;
    } else {
      ts = this.start + BigInt(index) * BigInt(iv) + BigInt(jitter);
      ms = Number(ts / 1_000_000n);
      subMsNs = Number(ts % 1_000_000n);
    }
    this.#formatSecond(Math.floor(ms / 1000));

    const source = SOURCES.pick(rng);
    let line: string;
    let level: Level;
    if (source.access) {
      const status = STATUSES.pick(rng);
      level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      line = this.#accessLine(rng, source, status, traceId);
    } else {
      level = source.levels.pick(rng);
      const micros = (ms % 1000) * 1000 + Math.floor(subMsNs / 1000);
      line = this.#jsonLine(rng, source, level, micros, traceId);
    }
    return { ts, labels: source.labels[level], line };
  }

  /**
   * Entries `from`, `from + 1`, … (`count` of them, or until index 2^32).
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./log_generator.ts";
   * const lines = [...new LogGenerator().entries(0, 10)].map((e) => e.line);
   * console.log(lines.length); // 10
   * ```
   */
  *entries(from = 0, count = Infinity): Generator<LogEntry> {
    const end = Math.min(from + count, MAX_INDEX);
    for (let i = from; i < end; i++) yield this.at(i);
  }

  #formatSecond(second: number): void {
    if (second === this.#cachedSecond) return;
    this.#cachedSecond = second;
    const d = new Date(second * 1000);
    this.#cachedIso = d.toISOString().slice(0, 19);
    const day = String(d.getUTCDate()).padStart(2, "0");
    const time = this.#cachedIso.slice(11, 19);
    this.#cachedClf = `${day}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${time} +0000`;
  }

  #accessLine(rng: Rng, source: Source, status: number, traceId: string): string {
    const gateway = source.service === "gateway";
    const [method, path] = (gateway ? GATEWAY_PATHS : NGINX_PATHS).pick(rng);
    const ip = clientIp(rng);
    const user = gateway && rng.float() < 0.4 ? `u_${rng.skewed(250_000, 2.5)}` : "-";
    const bytes = status === 204 || status === 304
      ? 0
      : status >= 300
      ? rng.range(150, 600)
      : rng.range(300, gateway ? 12_000 : 90_000);
    let rt = 0.001 + 0.03 * -Math.log(1 - rng.float());
    if (status === 504) rt = 30 + rng.float() * 0.05;
    else if (status >= 500) rt += rng.float() * 2;
    const referer = gateway || rng.float() < 0.45 ? "-" : rng.pick(REFERERS);
    const ua = rng.pick(gateway ? API_CLIENT_AGENTS : USER_AGENTS);
    const proto = rng.float() < 0.7 ? "HTTP/2.0" : "HTTP/1.1";
    const suffix = gateway ? ` upstream=${rng.pick(UPSTREAMS)}` : "";
    return `${ip} - ${user} [${this.#cachedClf}] "${method} ${
      path(rng)
    } ${proto}" ${status} ${bytes} "${referer}" "${ua}" rt=${
      rt.toFixed(3)
    }${suffix} trace_id=${traceId}`;
  }

  #jsonLine(rng: Rng, source: Source, level: Level, micros: number, traceId: string): string {
    const pool = rng.float() < COMMON_SHARE ? COMMON : SERVICE_POOLS[source.service];
    const template = rng.pick(pool[level]);
    const parts = this.#parts;
    parts.length = 0;
    parts.push(
      `{"ts":"${this.#cachedIso}.${String(micros).padStart(6, "0")}Z","level":"${level}",` +
        `"logger":"${source.service}","msg":"${template.msg}","trace_id":"${traceId}",` +
        `"span_id":"${hex8(rng.u32())}${hex8(rng.u32())}"`,
    );
    for (const field of template.fields) field(rng, parts);
    parts.push("}");
    return parts.join("");
  }
}

function checkIndex(index: number): void {
  if (!(Number.isInteger(index) && index >= 0 && index < MAX_INDEX)) {
    throw new RangeError(
      `Cannot generate line: index must be an integer in [0, 2^32), got ${index}`,
    );
  }
}

/**
 * The first `count` entries of the corpus described by `options`.
 *
 * @example
 * ```ts
 * import { generateLogs } from "./log_generator.ts";
 * for (const { ts, labels, line } of generateLogs(5, { seed: 42 })) {
 *   console.log(ts, labels.app, line);
 * }
 * ```
 */
export function generateLogs(
  count: number,
  options: LogGeneratorOptions = {},
): Generator<LogEntry> {
  return new LogGenerator(options).entries(0, count);
}

/**
 * A needle for a corpus of `lines` lines: a trace id that occurs in exactly one line, at an index
 * in the middle half of the corpus chosen deterministically from the seed.
 *
 * @example Find a needle, then search for it
 * ```ts
 * import { pickNeedle } from "./log_generator.ts";
 * const needle = pickNeedle(1_000_000, { seed: 42 });
 * console.log(`{app=~".+"} |= "${needle.traceId}"`, "→ 1 line at", needle.entry.ts);
 * ```
 * @throws {RangeError} If `lines` is not an integer in [1, 2^32].
 */
export function pickNeedle(lines: number, options: LogGeneratorOptions = {}): Needle {
  if (!(Number.isInteger(lines) && lines >= 1 && lines <= MAX_INDEX)) {
    throw new RangeError(`Cannot pick needle: lines must be an integer in [1, 2^32], got ${lines}`);
  }
  const gen = new LogGenerator(options);
  const quarter = Math.floor(lines / 4);
  const span = Math.max(1, lines - 2 * quarter);
  const h = fmix32(fmix32(gen.seed >>> 0) ^ 0x6e656564); // "need"
  const index = quarter + (h % span);
  return { index, traceId: gen.traceIdAt(index), entry: gen.at(index) };
}
