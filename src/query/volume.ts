/**
 * Log volume by series or by label over time buckets, from the index alone
 * (Loki's `index/volume` and `index/volume_range`: loki
 * `pkg/storage/stores/shipper/indexshipper/tsdb/single_file_index.go`
 * `Volume`, `pkg/storage/stores/index/seriesvolume`). Blocks of files count
 * their raw bytes, prorated by the part of their time span a bucket covers,
 * as Loki prorates chunks; lines in memory count their bytes exactly. No
 * block is read.
 *
 * A stream's volume goes to a series named by its labels among the target
 * labels (by default, the labels the matchers name; none for `{}`), or,
 * aggregated by label, to each of its label names. Each bucket keeps its
 * `limit` largest series (ties by label set), as Loki's accumulator does.
 *
 * @module
 */

import type { StreamLabels } from "../storage/catalog.ts";
import type { LabelMatcher } from "./ast.ts";
import { type EngineContext, streamFilter } from "./plan.ts";
import { eachBlockIn } from "./streams.ts";
import { utf8Length } from "../utf8.ts";

/** How volumes are grouped: by series (label sets) or by label name. */
export type VolumeAggregation = "series" | "labels";

/** A volume query. */
export interface VolumeQuery {
  /** Time buckets: inclusive bounds, ascending and disjoint. */
  readonly buckets: readonly (readonly [bigint, bigint])[];
  readonly matchers: readonly LabelMatcher[];
  /**
   * Labels to aggregate into; streams without one of them are left out
   * (each acts as a `name=~".+"` matcher). None: the labels the matchers name.
   */
  readonly targetLabels: readonly string[];
  readonly aggregateBy: VolumeAggregation;
  /** Series kept per bucket, the largest first. */
  readonly limit: number;
}

/** One series of a volume answer: its labels and its bytes per bucket. */
export interface VolumeSeries {
  /** The series' labels; aggregated by label, `{<name>: ""}`. */
  readonly labels: Record<string, string>;
  /** Bytes per bucket; `undefined` where the series is not among the bucket's largest, or has none. */
  readonly bytes: (number | undefined)[];
}

/** Index of the first bucket that ends at or after `ts` (`buckets.length` if none). */
function firstEndingFrom(buckets: VolumeQuery["buckets"], ts: bigint): number {
  let lo = 0;
  let hi = buckets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buckets[mid][1] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the bucket holding `ts`, or -1. */
function bucketOf(buckets: VolumeQuery["buckets"], ts: bigint): number {
  const b = firstEndingFrom(buckets, ts);
  return b < buckets.length && buckets[b][0] <= ts ? b : -1;
}

/** The canonical key of a label set: its pairs sorted by name. */
function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The volumes of `query`: every series among the `limit` largest of at
 * least one bucket, in order of their first key.
 *
 * @throws {RangeError} when there are no buckets.
 */
export async function volumes(ctx: EngineContext, query: VolumeQuery): Promise<VolumeSeries[]> {
  const { buckets, targetLabels, aggregateBy } = query;
  if (buckets.length === 0) throw new RangeError("Cannot compute volumes: no buckets");
  const lo = buckets[0][0];
  const hi = buckets[buckets.length - 1][1];
  const named = new Set(query.matchers.map((m) => m.name));
  const selects = streamFilter([
    ...query.matchers,
    ...targetLabels.filter((t) => !named.has(t)).map((name) => ({
      name,
      op: "=~" as const,
      value: ".+",
    })),
  ]);
  const kept = targetLabels.length > 0 ? targetLabels : [...named];
  // Per bucket, bytes by series key; the series' labels by key.
  const perBucket = buckets.map(() => new Map<string, number>());
  const labelsOf = new Map<string, Record<string, string>>();
  // Each stream's series keys, computed once.
  const keysOf = new Map<StreamLabels, string[]>();
  const seriesKeys = (stream: StreamLabels): string[] => {
    let keys = keysOf.get(stream);
    if (keys) return keys;
    const sets: Record<string, string>[] = [];
    if (aggregateBy === "series") {
      const labels: Record<string, string> = {};
      for (const name of kept) {
        if (Object.hasOwn(stream.labels, name)) labels[name] = stream.labels[name];
      }
      sets.push(labels);
    } else {
      for (const name of Object.keys(stream.labels)) {
        if (targetLabels.length === 0 || targetLabels.includes(name)) sets.push({ [name]: "" });
      }
    }
    keys = sets.map((labels) => {
      const key = keyOf(labels);
      labelsOf.set(key, labels);
      return key;
    });
    keysOf.set(stream, keys);
    return keys;
  };
  const add = (bucket: number, stream: StreamLabels, bytes: number) => {
    if (bytes <= 0) return;
    const into = perBucket[bucket];
    for (const key of seriesKeys(stream)) into.set(key, (into.get(key) ?? 0) + bytes);
  };
  const files = [...ctx.catalog.entries()].filter((e) =>
    e.maxTs >= lo && e.minTs <= hi && (!e.indexed || e.streams.some(selects))
  );
  await eachBlockIn(ctx, files, lo, hi, selects, (stream, ref) => {
    const span = Number(ref.maxTs - ref.minTs) + 1;
    for (
      let b = firstEndingFrom(buckets, ref.minTs);
      b < buckets.length && buckets[b][0] <= ref.maxTs;
      b++
    ) {
      const [from, to] = buckets[b];
      const overlap =
        Number((to < ref.maxTs ? to : ref.maxTs) - (from > ref.minTs ? from : ref.minTs)) +
        1;
      if (overlap > 0) add(b, stream, Math.round(ref.rawLength * overlap / span));
    }
  });
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    for (const mem of batch.streams.values()) {
      const stream = ctx.catalog.stream(mem.key);
      if (!selects(stream)) continue;
      for (let i = 0; i < mem.ts.length; i++) {
        const b = bucketOf(buckets, mem.ts[i]);
        if (b >= 0) add(b, stream, utf8Length(mem.lines[i]));
      }
    }
  }
  // Each bucket's largest series, as Loki's accumulator keeps them.
  const series = new Map<string, (number | undefined)[]>();
  perBucket.forEach((volumes, b) => {
    const top = [...volumes].sort(([ka, va], [kb, vb]) => vb - va || (ka < kb ? -1 : 1));
    for (const [key, bytes] of top.slice(0, query.limit)) {
      let points = series.get(key);
      if (!points) series.set(key, points = new Array(buckets.length).fill(undefined));
      points[b] = bytes;
    }
  });
  return [...series.keys()].sort().map((key) => ({
    labels: labelsOf.get(key)!,
    bytes: series.get(key)!,
  }));
}
