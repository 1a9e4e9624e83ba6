/**
 * Log patterns over a time range, with their counts per step: what Loki's
 * pattern ingester answers (loki `pkg/pattern`), mined here when asked. The
 * lines of the selected streams are mined with Drain (`drain.ts`), one tree
 * per stream and level, as Loki trains one per stream and `detected_level`;
 * templates that read the same are merged across streams, and those with
 * fewer than 30 lines in the range are left out, at most 300 kept, the
 * largest first (Loki's `prunePatterns`).
 *
 * Bounded work: at most {@linkcode MAX_CLUSTERS} templates are made, and when
 * the blocks of files in the range hold more than {@linkcode MAX_LINES}
 * lines, a deterministic sample of them is mined (each block kept with
 * probability `MAX_LINES / lines`) and its counts scaled up: the counts are
 * then estimates. Lines in memory are always mined.
 *
 * @module
 */

import type { StreamLabels } from "../storage/catalog.ts";
import { DETECTED_LEVEL, LEVEL_FIELDS, levelOf, UNKNOWN_LEVEL } from "../ingest/detected_level.ts";
import type { LabelMatcher } from "./ast.ts";
import { Drain } from "./drain.ts";
import { lineMatcher } from "./line_scan.ts";
import { type EngineContext, plan, type Unit } from "./plan.ts";
import { ReadFigures } from "./read_figures.ts";
import { readUnits, scanColumns } from "./scan.ts";

/** Lines of files mined at most; beyond, a sample of blocks is. */
export const MAX_LINES = 100_000;
/** Templates made at most, over every stream and level. */
export const MAX_CLUSTERS = 3_000;
/** Lines a template needs in the range to be answered (Loki's `minClusterSize`). */
export const MIN_PATTERN_LINES = 30;
/** Templates answered at most (Loki's `maxPatterns`). */
export const MAX_PATTERNS = 300;

/** A pattern query; `start` and `end` are inclusive. */
export interface PatternQuery {
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: readonly LabelMatcher[];
  /** Width of the count buckets, in nanoseconds; buckets start at multiples of it. */
  readonly step: bigint;
}

/** One pattern, at one level, and its lines per bucket. */
export interface PatternSeries {
  readonly pattern: string;
  readonly level: string;
  /** `[bucket start, lines]`, ascending, every bucket from the first to the last with lines. */
  readonly samples: [bigint, number][];
}

/** The patterns of a range. */
export interface Patterns {
  readonly series: PatternSeries[];
  /** 1 when every line was mined; otherwise the factor by which sampled counts were scaled. */
  readonly scale: number;
  /** What was read. */
  readonly read: ReadFigures;
  /** One message per damaged file skipped. */
  readonly warnings: string[];
}

/** The level of a line, as the pattern ingester files it: its `detected_level`, else its stream's. */
function levelOfLine(stream: StreamLabels, metadata: string | undefined): string {
  if (metadata !== undefined && metadata.includes(DETECTED_LEVEL)) {
    const level = (JSON.parse(metadata) as Record<string, string>)[DETECTED_LEVEL];
    if (level !== undefined) return levelOf(level) ?? UNKNOWN_LEVEL;
  }
  const field = LEVEL_FIELDS.find((f) => Object.hasOwn(stream.labels, f));
  return field === undefined ? UNKNOWN_LEVEL : levelOf(stream.labels[field]) ?? UNKNOWN_LEVEL;
}

/** A 32-bit FNV-1a hash of `text`: the sampling's deterministic coin. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The units to mine, and the factor their counts are scaled by: every unit
 * in memory, and the blocks of files, or a sample of them.
 */
function sample(units: Unit[]): { units: Unit[]; scale: number } {
  const lines = units.reduce((n, u) => n + (u.kind === "block" ? u.ref.count : 0), 0);
  if (lines <= MAX_LINES) return { units, scale: 1 };
  const keep = MAX_LINES / lines;
  return {
    units: units.filter((u) =>
      u.kind === "memory" || hash(`${u.entry.name} ${u.ref.offset}`) / 0x1_0000_0000 < keep
    ),
    scale: lines / MAX_LINES,
  };
}

/**
 * The patterns of `query`'s streams over its range.
 *
 * @throws {RangeError} when `step` is not positive or `start` is after `end`.
 */
export async function minePatterns(ctx: EngineContext, query: PatternQuery): Promise<Patterns> {
  const { start, end, step } = query;
  if (step <= 0n || start > end) {
    throw new RangeError(
      `Cannot mine patterns: need start <= end and step > 0, got start ${start}, end ${end}, step ${step}`,
    );
  }
  const planned = await plan(ctx, {
    start,
    end,
    matchers: query.matchers,
    pushdown: [],
    pipeline: [],
  });
  const read = new ReadFigures();
  const budget = { remaining: MAX_CLUSTERS };
  const drains = new Map<string, { level: string; drain: Drain }>();
  const everyLine = lineMatcher([]);
  const { units, scale } = sample(planned.units);
  try {
    for (let at = 0; at < units.length; at += ctx.concurrency) {
      const wave = units.slice(at, at + ctx.concurrency);
      const columns = await readUnits(ctx, wave, planned.warnings, read);
      for (let w = 0; w < wave.length; w++) {
        const unit = wave[w];
        const weight = unit.kind === "memory" ? 1 : scale;
        await scanColumns(columns[w], start, end, everyLine, (ts, line, metadata) => {
          const level = levelOfLine(unit.stream, metadata);
          const key = `${unit.stream.key} ${level}`;
          let miner = drains.get(key);
          if (!miner) drains.set(key, miner = { level, drain: new Drain(budget) });
          miner.drain.train(line)?.count(Number(ts / step), weight);
        }, read);
      }
    }
  } finally {
    planned.done();
  }
  // Templates that read the same, at one level, are one pattern.
  const merged = new Map<string, { pattern: string; level: string; counts: Map<number, number> }>();
  for (const { level, drain } of drains.values()) {
    for (const cluster of drain.clusters) {
      const pattern = cluster.pattern;
      const key = `${level} ${pattern}`;
      let into = merged.get(key);
      if (!into) merged.set(key, into = { pattern, level, counts: new Map() });
      for (const [bucket, n] of cluster.counts) {
        into.counts.set(bucket, (into.counts.get(bucket) ?? 0) + n);
      }
    }
  }
  const series = [...merged.values()].map(({ pattern, level, counts }) => {
    const buckets = [...counts.keys()].sort((a, b) => a - b);
    const samples: [bigint, number][] = [];
    let total = 0;
    for (let b = buckets[0]; b <= buckets[buckets.length - 1]; b++) {
      const n = Math.round(counts.get(b) ?? 0);
      total += n;
      samples.push([BigInt(b) * step, n]);
    }
    return { pattern, level, samples, total };
  }).filter((s) => s.total >= MIN_PATTERN_LINES);
  series.sort((a, b) =>
    b.total - a.total || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0)
  );
  return {
    series: series.slice(0, MAX_PATTERNS).map(({ pattern, level, samples }) => ({
      pattern,
      level,
      samples,
    })),
    scale,
    read,
    warnings: planned.warnings,
  };
}
