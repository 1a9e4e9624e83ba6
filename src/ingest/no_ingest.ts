/**
 * The ingest sink of a query-only node (`loge serve --ingest=false`): it has
 * no write-ahead log and no head, and every push is refused with a reason.
 * Such nodes scale reads out over a shared cold tier.
 *
 * @module
 */

import type { IngestSink } from "./ingester.ts";

/** A push sent to a node that does not ingest. */
export class IngestDisabledError extends Error {
  /** Creates the error. */
  constructor() {
    super("this node does not ingest (--ingest=false): send pushes to an ingesting node");
    this.name = "IngestDisabledError";
  }
}

/**
 * The sink that refuses every push.
 *
 * @example
 * ```ts
 * import { IngestDisabledError, NO_INGEST } from "./no_ingest.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(NO_INGEST.admit(), IngestDisabledError);
 * assert.equal(NO_INGEST.headStats().rows, 0);
 * ```
 */
export const NO_INGEST: IngestSink = {
  admit: () => Promise.reject(new IngestDisabledError()),
  release: () => {},
  push: () => Promise.reject(new IngestDisabledError()),
  counters: {},
  health: () => ({
    faults: { wal: null, flush: null },
    wal: { segments: 0, damaged_stretches: 0, skipped_bytes: 0, records_lost: 0 },
  }),
  headStats: () => ({ rows: 0 }),
  pushed: new Map(),
};
