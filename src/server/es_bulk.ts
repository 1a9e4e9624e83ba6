/**
 * Elasticsearch's bulk API, as log shippers (Filebeat, Vector, Fluent Bit,
 * the `@elastic/elasticsearch` client) use it: `POST /_bulk` (also under
 * `/insert/elasticsearch`, VictoriaLogs' path), and the answers those
 * clients check before they send: the cluster info at `/` for clients that
 * ask for JSON, `/_license`, `/_xpack` and `/_cluster/health`. Documents are
 * mapped to lines as `src/ingest/es_bulk.ts` says; the answer has
 * Elasticsearch's shape (`took`, `errors`, one item per action).
 *
 * @module
 */

import {
  decodeEsBulk,
  type EsBulkItem,
  type EsBulkMapping,
  frameEsBulk,
} from "../ingest/es_bulk.ts";
import { PushFormat } from "../ingest/decode.ts";
import type { IngestSink } from "../ingest/ingester.ts";
import type { ErrorFlavor } from "./errors.ts";
import { type PushLimits, receivePush } from "./push.ts";

/** Elasticsearch's answers carry this header; `@elastic/elasticsearch` 8 refuses answers without it. */
const PRODUCT = { "x-elastic-product": "Elasticsearch" };

/** The version loge answers as: clients of 7 and 8 accept it (VictoriaLogs answers the same). */
const VERSION = "8.9.0";

function esJson(body: unknown, status = 200): Response {
  return esText(JSON.stringify(body), status);
}

function esText(json: string, status = 200): Response {
  return new Response(json, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...PRODUCT },
  });
}

/** Elasticsearch's error types by status; `parse_exception` for the other 4xx. */
const ERROR_TYPES: Record<number, string> = {
  401: "security_exception",
  404: "index_not_found_exception",
  413: "content_too_long",
  503: "es_rejected_execution_exception",
};

/**
 * Errors in Elasticsearch's shape: `{"error":{"type","reason"},"status"}`.
 *
 * @example
 * ```ts
 * import { esFlavor } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const res = esFlavor("invalid API key", { status: 401, headers: {} });
 * assert.deepEqual(await res.json(), {
 *   error: { type: "security_exception", reason: "invalid API key" },
 *   status: 401,
 * });
 * ```
 */
export const esFlavor: ErrorFlavor = (message, { status, headers }) =>
  new Response(
    JSON.stringify({
      error: { type: ERROR_TYPES[status] ?? "parse_exception", reason: message },
      status,
    }),
    {
      status,
      headers: { "content-type": "application/json; charset=utf-8", ...PRODUCT, ...headers },
    },
  );

/**
 * Whether a request for `/` comes from an Elasticsearch client rather than
 * a browser: no `text/html` in `Accept`, and JSON asked for or a shipper's
 * user agent (Filebeat and other Beats, Vector, elasticsearch-js, Go's
 * default client).
 *
 * @example
 * ```ts
 * import { isEsClient } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const req = (headers: Record<string, string>) => new Request("http://loge/", { headers });
 * assert.equal(isEsClient(req({ "user-agent": "Filebeat/8.15.0", accept: "*\/*" })), true);
 * assert.equal(isEsClient(req({ accept: "text/html,application/xhtml+xml" })), false);
 * assert.equal(isEsClient(req({ accept: "application/json" })), true);
 * ```
 */
export function isEsClient(req: Request): boolean {
  const accept = (req.headers.get("accept") ?? "").toLowerCase();
  if (accept.includes("text/html")) return false;
  const agent = req.headers.get("user-agent") ?? "";
  return accept.includes("json") ||
    /beat|vector|elasticsearch|elastic-transport|go-http-client|fluent|logstash/i.test(agent);
}

/** Elasticsearch's cluster info, as `GET /` answers it. */
export function esInfo(): Response {
  return esJson({
    name: "loge",
    cluster_name: "loge",
    cluster_uuid: "loge",
    version: {
      number: VERSION,
      build_flavor: "default",
      build_type: "docker",
      lucene_version: "9.7.0",
      minimum_wire_compatibility_version: "7.17.0",
      minimum_index_compatibility_version: "7.0.0",
    },
    tagline: "You Know, for Search",
  });
}

/** The other answers shippers check: `/_license`, `/_xpack`, `/_cluster/health`. */
export const ES_CHECKS: Record<string, () => Response> = {
  "_license": () =>
    esJson({ license: { uid: "loge", type: "basic", status: "active", mode: "basic" } }),
  "_xpack": () =>
    esJson({
      build: {},
      license: { uid: "loge", type: "basic", mode: "basic", status: "active" },
      features: {},
    }),
  "_cluster/health": () =>
    esJson({ cluster_name: "loge", status: "green", timed_out: false, number_of_nodes: 1 }),
};

/**
 * The bulk answer's JSON. Stored documents share their item objects (one per
 * action and index), so each distinct item is written once, and a run of one
 * item at once.
 *
 * @example
 * ```ts
 * import { bulkAnswer } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const created = { create: { status: 201 } };
 * const failed = { index: { _index: "", status: 400, error: { type: "t", reason: "r" } } };
 * assert.deepEqual(
 *   JSON.parse(bulkAnswer(3, [created, created, failed])),
 *   { took: 3, errors: true, items: [created, created, failed] },
 * );
 * ```
 */
export function bulkAnswer(took: number, items: readonly EsBulkItem[]): string {
  const written = new Map<EsBulkItem, string>();
  let errors = false;
  let list = "";
  for (let i = 0; i < items.length;) {
    const item = items[i];
    let json = written.get(item);
    if (json === undefined) {
      json = JSON.stringify(item);
      written.set(item, json);
      for (const k in item) errors ||= item[k].status >= 300;
    }
    // Runs of one item (a body's stored documents) are written at once.
    let run = 1;
    while (i + run < items.length && items[i + run] === item) run++;
    list += `${i === 0 ? "" : ","}${`${json},`.repeat(run - 1)}${json}`;
    i += run;
  }
  return `{"took":${took},"errors":${errors},"items":[${list}]}`;
}

/**
 * `POST /_bulk`: stores the documents that map to lines and answers
 * `{"took","errors","items"}` with one item per action (201, or 400 with the
 * reason).
 *
 * @throws {PushError} when the body is malformed (400 in Elasticsearch's
 * error shape, {@linkcode esFlavor}): nothing is stored.
 */
export async function handleEsBulk(
  req: Request,
  ingester: IngestSink,
  limits: PushLimits,
  mapping: EsBulkMapping,
): Promise<Response> {
  const started = Date.now();
  let items: EsBulkItem[] = [];
  await receivePush(req, ingester, limits, PushFormat.EsBulk, (body) => {
    const header = { ...mapping, receivedNs: BigInt(Date.now()) * 1_000_000n };
    const decoded = decodeEsBulk(body, header);
    items = decoded.items;
    return { payload: decoded.payload, record: frameEsBulk(body.parts, header) };
  });
  return esText(bulkAnswer(Date.now() - started, items));
}
