/**
 * Label discovery: the streams with lines in a time window, and their label
 * names and values. A file or batch wholly inside the window counts with
 * all its streams; one that straddles it is looked into, by block or by line.
 *
 * @module
 */

import type { CatalogEntry, StreamLabels } from "../storage/catalog.ts";
import { type EngineContext, inParallel, timeBounds } from "./plan.ts";

/** The streams with lines in `[start, end]` (bounds 0n = unbounded). */
export async function streamsIn(
  ctx: EngineContext,
  start: bigint,
  end: bigint,
): Promise<Set<StreamLabels>> {
  const [lo, hi] = timeBounds({ start, end });
  const { catalog, cache } = ctx;
  const out = new Set<StreamLabels>();
  const straddling: CatalogEntry[] = [];
  for (const e of catalog.entries()) {
    if (e.maxTs < lo || e.minTs > hi) continue;
    if (e.minTs >= lo && e.maxTs <= hi) { for (const s of e.streams) out.add(s); }
    else straddling.push(e);
  }
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    const inside = batch.minTs >= lo && batch.maxTs <= hi;
    for (const mem of batch.streams.values()) {
      if (inside || mem.ts.some((t) => t >= lo && t <= hi)) out.add(catalog.stream(mem.key));
    }
  }
  catalog.acquire(straddling);
  try {
    await inParallel(straddling, ctx.concurrency, async (entry) => {
      const { index, release } = await cache.open(entry);
      try {
        for (const ref of index.blocks) {
          if (ref.maxTs >= lo && ref.minTs <= hi) {
            out.add(catalog.stream(index.streams[ref.stream]));
          }
        }
      } finally {
        release();
      }
    });
  } finally {
    catalog.release(straddling);
  }
  return out;
}

/** Label names of `streams`, sorted. */
export function labelNames(streams: Iterable<StreamLabels>): string[] {
  const names = new Set<string>();
  for (const s of streams) for (const k of Object.keys(s.labels)) names.add(k);
  return [...names].sort();
}

/** Values of label `name` in `streams`, sorted. */
export function labelValues(streams: Iterable<StreamLabels>, name: string): string[] {
  const values = new Set<string>();
  for (const s of streams) {
    // Own properties only: "constructor" must not find Object.prototype's.
    if (Object.hasOwn(s.labels, name)) values.add(s.labels[name]);
  }
  return [...values].sort();
}
