/**
 * JSON line templates. A template is "message|field field …": each field names a generator
 * below that appends `,"key":value` to the line. Values never need JSON escaping.
 *
 * @module
 */

import { hex8, type Rng } from "../../testing/prng.ts";
import type { Level } from "./topology.ts";
import {
  CATEGORIES,
  clientIp,
  COUNTRIES,
  CURRENCIES,
  EMAIL_TEMPLATES,
  ERRORS,
  FLAGS,
  INDEXES,
  JOBS,
  MAIL_DOMAINS,
  MFA,
  PEERS,
  PLANS,
  PRODUCTS,
  PROVIDERS,
  QUEUES,
  ROUTES,
  SLUGS,
  TABLES,
  UPSTREAMS,
} from "./vocabulary.ts";

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

export interface Template {
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

export type Pools = Readonly<Record<Level, readonly Template[]>>;

function pools(debug: string, info: string, warn: string, error: string): Pools {
  return {
    debug: templates(debug),
    info: templates(info),
    warn: templates(warn),
    error: templates(error),
  };
}

/** Messages any JSON service may log. */
export const COMMON: Pools = pools(
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

export const SERVICE_POOLS: Readonly<Record<string, Pools>> = {
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
export const COMMON_SHARE = 0.25;
