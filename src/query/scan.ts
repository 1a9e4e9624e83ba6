/**
 * Reading planned units as columns and scanning them: blocks of one file are
 * fetched together (adjacent blocks in one read), head streams are sorted by
 * time, and the pushed-down line filters run in the scan (a native search
 * for a required term finds candidate lines without decoding the others).
 *
 * @module
 */

import { checkDeadline, shareEventLoop, turnClock } from "./deadline.ts";
import { type Block, type BlockTimes, decodeTimes } from "../storage/block_codec.ts";
import type { MemStream } from "../ingest/head.ts";
import { SegmentFormatError } from "../storage/segment_format.ts";
import { readBlocks } from "../storage/segment_reader.ts";
import type { ByteSource } from "../storage/source/byte_source.ts";
import { LOCAL } from "../storage/source/opener.ts";
import { type LineMatcher, lowerBound, scanBlock, upperBound } from "./line_scan.ts";
import { type BlockUnit, type ReadContext, type Unit, unreadable } from "./plan.ts";
import type { ReadFigures } from "./read_figures.ts";
import { utf8Length } from "../utf8.ts";
import { OFF_THREAD_CHARS, OFF_THREAD_LINES, testLinesOffThread } from "./off_thread.ts";

/** A unit's lines as ascending columns. */
export interface Columns {
  readonly ts: BigInt64Array | bigint[];
  /** Whether any line has metadata. */
  readonly hasMetadata: boolean;
  /** Whether the lines are in memory (the head's), not in a block of a file. */
  readonly inMemory: boolean;
  /** UTF-8 bytes of lines `[from, to)`. */
  bytes(from: number, to: number): number;
  /**
   * Scans lines `[from, to)` with `matcher` until `turnUp` says the query's
   * turn is up, or up to a line too costly to test here
   * (`matcher.costly`); returns the index to resume from (`to`: done).
   */
  scan(
    from: number,
    to: number,
    matcher: LineMatcher,
    emit: (i: number, line: string) => void,
    turnUp: () => boolean,
  ): number;
  metadata(i: number): string | undefined;
  /** Line `i`. */
  line(i: number): string;
}

const utf8 = new TextDecoder();

/** The columns of a block that could not be read. */
const NO_COLUMNS: Columns = {
  ts: [],
  hasMetadata: false,
  inMemory: false,
  bytes: () => 0,
  scan: (_from, to) => to,
  metadata: () => undefined,
  line: () => "",
};

function blockColumns(block: Block): Columns {
  return {
    ...timeColumns(block),
    bytes(from, to) {
      let n = 0;
      for (let i = from; i < to; i++) n += block.ends[i] - block.starts[i];
      return n;
    },
    scan: (from, to, matcher, emit, turnUp) => scanBlock(block, from, to, matcher, emit, turnUp),
    line: (i) => utf8.decode(block.lines.subarray(block.starts[i], block.ends[i])),
  };
}

/**
 * The columns of a block read for its times and metadata alone: its lines
 * count with no bytes, as those of a block counted from the index do, and it
 * cannot be scanned.
 */
function timeColumns(block: BlockTimes): Columns {
  return {
    ts: block.ts,
    hasMetadata: block.metadata !== undefined,
    inMemory: false,
    bytes: () => 0,
    scan() {
      throw new Error("Cannot scan the lines of a block read for its times alone");
    },
    line() {
      throw new Error("Cannot read a line of a block read for its times alone");
    },
    metadata(i) {
      const ends = block.metadataEnds;
      if (!ends) return undefined;
      const start = i === 0 ? 0 : ends[i - 1];
      return ends[i] > start ? utf8.decode(block.metadata!.subarray(start, ends[i])) : undefined;
    },
  };
}

function memColumns(mem: MemStream): Columns {
  // Head lines are in arrival order: sort a snapshot of indices by time.
  const order = Array.from({ length: mem.ts.length }, (_, i) => i);
  order.sort((a, b) => (mem.ts[a] < mem.ts[b] ? -1 : mem.ts[a] > mem.ts[b] ? 1 : a - b));
  return {
    ts: order.map((i) => mem.ts[i]),
    hasMetadata: mem.metadata !== undefined,
    inMemory: true,
    bytes(from, to) {
      let n = 0;
      for (let k = from; k < to; k++) n += utf8Length(mem.lines[order[k]]);
      return n;
    },
    scan(from, to, matcher, emit, turnUp) {
      for (let k = from; k < to; k++) {
        const line = mem.lines[order[k]];
        if (matcher.costly?.(line.length)) return k;
        if (!matcher.test || matcher.test(line)) emit(k, line);
        if (k + 1 < to && turnUp()) return k + 1;
      }
      return to;
    },
    metadata: (k) => mem.metadata?.[order[k]],
    line: (k) => mem.lines[order[k]],
  };
}

/**
 * Reads `units` as columns, in their order: the blocks of one file through
 * one {@linkcode readBlocks} call (adjacent blocks cost one read, not one
 * each). A damaged block reads as no lines, with a warning, as do the
 * blocks of a file that cannot be read now. Blocks of remote files come from
 * and go to the context's block cache. `read` counts the blocks and their
 * compressed bytes. With `timesOnly`, blocks are decoded for their times and
 * metadata alone (what a count needs), their lines neither decoded nor
 * cached.
 */
export async function readUnits(
  ctx: ReadContext,
  units: readonly Unit[],
  warnings: string[],
  read?: ReadFigures,
  timesOnly = false,
): Promise<Columns[]> {
  await shareEventLoop();
  checkDeadline();
  const out = new Array<Columns>(units.length);
  const bySource = new Map<ByteSource, { at: number; unit: BlockUnit }[]>();
  const { blockCache } = ctx;
  units.forEach((unit, at) => {
    if (unit.kind === "memory") return void (out[at] = memColumns(unit.mem));
    if (read) {
      read.blocks++;
      read.compressedBytes += unit.ref.length;
    }
    const remote = blockCache !== undefined && unit.entry.location !== LOCAL;
    const cached = remote ? blockCache.get(unit.entry.name, unit.ref.offset) : undefined;
    if (cached) return void (out[at] = timesOnly ? timeColumns(cached) : blockColumns(cached));
    const group = bySource.get(unit.source);
    if (group) group.push({ at, unit });
    else bySource.set(unit.source, [{ at, unit }]);
  });
  await Promise.all([...bySource].map(async ([source, group]) => {
    const refs = group.map((g) => g.unit.ref);
    let blocks: (Block | BlockTimes | SegmentFormatError)[];
    try {
      blocks = timesOnly
        ? await readBlocks(source, refs, decodeTimes)
        : await readBlocks(source, refs);
    } catch (error) {
      unreadable(ctx, group[0].unit.entry, error, warnings);
      for (const { at } of group) out[at] = NO_COLUMNS;
      return;
    }
    group.forEach(({ at, unit }, k) => {
      const block = blocks[k];
      if (block instanceof SegmentFormatError) {
        unreadable(ctx, unit.entry, block, warnings);
        out[at] = NO_COLUMNS;
        return;
      }
      if (timesOnly) return void (out[at] = timeColumns(block));
      if (blockCache !== undefined && unit.entry.location !== LOCAL) {
        blockCache.set(unit.entry.name, unit.ref.offset, block as Block);
      }
      out[at] = blockColumns(block as Block);
    });
  }));
  return out;
}

/** Counts lines `[from, to)` of `cols` and their bytes in `read`, by where they are. */
export function countLines(read: ReadFigures, cols: Columns, from: number, to: number): void {
  if (from >= to) return;
  if (cols.inMemory) {
    read.headLines += to - from;
    read.headBytes += cols.bytes(from, to);
  } else {
    read.blockLines += to - from;
    read.blockBytes += cols.bytes(from, to);
  }
}

/**
 * Emits the lines of `cols` with times in `[lo, hi]` that pass `matcher`, in
 * time order; `read` counts the lines in `[lo, hi]` and their bytes. A scan
 * gives the event loop back whenever the query's turn is up, between two
 * lines: a costly regex over a block's lines would otherwise hold every push
 * and request until the query's deadline. A line too costly to test on the
 * event loop at all is tested off it ({@linkcode testLinesOffThread}), with
 * the costly lines that follow it: up to {@linkcode OFF_THREAD_LINES} in one
 * round trip, which costs ~0.25 ms (a query over 5,000 lines of 8 KB with an
 * IP-address pattern took 1.5 s sent one by one, 0.3 s on the event loop). When
 * `emit` gives a promise (its line went off the event loop, as
 * `processLine` in `off_thread.ts` sends it), the scan waits for it before
 * the next line: lines are emitted in order.
 */
export async function scanColumns(
  cols: Columns,
  lo: bigint,
  hi: bigint,
  matcher: LineMatcher,
  emit: (ts: bigint, line: string, metadata: string | undefined) => Promise<void> | undefined,
  read?: ReadFigures,
): Promise<void> {
  checkDeadline();
  const from = lowerBound(cols.ts, lo);
  const to = upperBound(cols.ts, hi);
  if (read) countLines(read, cols, from, to);
  let pending: Promise<void> | undefined;
  const emitAt = (i: number, line: string) => {
    pending = emit(cols.ts[i], line, cols.metadata(i));
  };
  const settle = async () => {
    if (pending === undefined) return;
    const turn = pending;
    pending = undefined;
    await turn;
  };
  for (let at = from; at < to;) {
    const turnUp = turnClock();
    at = cols.scan(at, to, matcher, emitAt, () => pending !== undefined || turnUp());
    if (pending === undefined && at < to) {
      const line = matcher.costly && cols.line(at);
      if (line && matcher.costly!(line.length)) {
        const run = costlyRun(cols, at, to, matcher, line);
        const passed = await testLinesOffThread(matcher.filters, run.lines);
        for (let k = 0; k < run.lines.length; k++) {
          if (!passed[k]) continue;
          emitAt(run.indices[k], run.lines[k]);
          // The lines' pipeline runs here, each bounded: the event loop is shared between them.
          await settle();
          checkDeadline();
          await shareEventLoop();
        }
        at = run.next;
      } else await shareEventLoop();
    }
    await settle();
    checkDeadline();
  }
}

/**
 * The costly line `first` at index `at` of `cols`, and those after it up to
 * `to` to test with it in one round trip: costly ones, up to
 * {@linkcode OFF_THREAD_LINES} and {@linkcode OFF_THREAD_CHARS}. Lines
 * without the matcher's needle fail its filters and are passed over, as the
 * scan's search passes over them; a cheap line with it ends the run, for the
 * scan to test. `next` is the index to go on from.
 */
function costlyRun(
  cols: Columns,
  at: number,
  to: number,
  matcher: LineMatcher,
  first: string,
): { indices: number[]; lines: string[]; next: number } {
  const needle = matcher.needle && utf8.decode(matcher.needle);
  const indices = [at];
  const lines = [first];
  let chars = first.length;
  let next = at + 1;
  for (; next < to && lines.length < OFF_THREAD_LINES; next++) {
    const line = cols.line(next);
    if (needle !== undefined && !line.includes(needle)) continue;
    if (!matcher.costly!(line.length) || chars + line.length > OFF_THREAD_CHARS) break;
    indices.push(next);
    lines.push(line);
    chars += line.length;
  }
  return { indices, lines, next };
}
