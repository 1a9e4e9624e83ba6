/**
 * The write-ahead log: every durable push is appended here and fsynced before
 * it is acknowledged. Concurrent appends share one write and one fsync (group
 * commit). Records carry the payload's sequence number, so replay can skip what
 * the catalog already holds.
 *
 * Record: `u32 length | u32 CRC-32 | u64 seq | u8 format | body`, where length
 * counts format and body, and the CRC covers seq, format and body.
 *
 * Segments are files `wal/<segment number, 20 digits>.wal`, numbered in the
 * order they are created. A number is never used twice: the next one is above
 * every number present at open, and a segment is created with `createNew`, so a
 * new segment can never truncate an old file. (Names used to be the first
 * sequence of the segment; after a segment with a torn first record that
 * sequence came back, and the new, live segment truncated and then deleted the
 * old file of the same name.) A new segment starts at open, past a size limit,
 * when a checkpoint finds the active one fully stored, and after a failed
 * write, which the segment is cut back from before it is sealed.
 *
 * Replay reads every intact record. A stretch that fails its checks (a torn
 * tail left by a crash, or damage) is skipped: replay looks for the next
 * intact record after it, logs what it skipped and counts it.
 *
 * @module
 */

import { log } from "../log.ts";
import { crc32 } from "node:zlib";
import { Histogram } from "../histogram.ts";
import { join } from "node:path";
import type { SeqSet } from "../storage/seq_ranges.ts";
import { FaultState } from "../storage/storage_error.ts";

/** One logged push body. */
export interface WalRecord {
  readonly seq: number;
  readonly format: number;
  readonly body: Uint8Array;
}

/** A stretch of a segment that holds no intact record. */
export interface WalDamage {
  /** Byte offset of the stretch in its segment. */
  readonly offset: number;
  /** Its length in bytes. */
  readonly bytes: number;
  /** Whether it runs to the end of the segment (a torn tail). */
  readonly tail: boolean;
  /** Sequence of the last intact record before it (0 when none). */
  readonly after: number;
  /** Sequence of the first intact record after it, when there is one in the segment. */
  readonly resumesAt?: number;
}

/** What replay skipped, for `/api/v1/stats`. */
export interface WalDamageCounters {
  /** Damaged stretches found (torn tails included). */
  stretches: number;
  /** Bytes skipped in them. */
  bytes: number;
  /** Records known lost: sequences missing between intact records, plus one per torn tail. */
  records: number;
}

const HEADER = 17;
/** Largest buffer kept for joining the records of one write (see `Wal.#join`). */
const KEPT_WRITE_BUFFER = 16 * 1024 * 1024;
const SUFFIX = ".wal";
const NAME = /^(\d{1,20})\.wal$/;

interface Segment {
  path: string;
  /** First and last sequence held; `last` is 0 while it holds no intact record. */
  first: number;
  last: number;
  bytes: number;
}

/**
 * What a record holds: one buffer, or parts that follow each other (a header
 * line, then the body as it arrived). Parts are written as they are, never
 * joined: a push body is not copied on its way to disk.
 */
export type RecordBody = Uint8Array | readonly Uint8Array[];

interface Pending {
  parts: Uint8Array[];
  bytes: number;
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * One record as the parts written one after another: its header (length,
 * checksum, sequence, format), then the body's parts.
 *
 * @example
 * ```ts
 * import { recordParts } from "./wal.ts";
 * import assert from "node:assert/strict";
 * const parts = recordParts(1, 1, [new Uint8Array(2), new Uint8Array(1)]);
 * assert.deepEqual(parts.map((p) => p.length), [17, 2, 1]);
 * ```
 */
export function recordParts(seq: number, format: number, body: RecordBody): Uint8Array[] {
  const parts = body instanceof Uint8Array ? [body] : body;
  let length = 0;
  for (const part of parts) length += part.length;
  const header = new Uint8Array(HEADER);
  const view = new DataView(header.buffer);
  view.setUint32(0, length + 1, true);
  view.setBigUint64(8, BigInt(seq), true);
  header[16] = format;
  let crc = crc32(header.subarray(8));
  for (const part of parts) crc = crc32(part, crc);
  view.setUint32(4, crc, true);
  return [header, ...parts];
}

/** The end of the intact record at `at` whose sequence is above `after`, or -1. */
function recordEnd(bytes: Uint8Array, view: DataView, at: number, after: number): number {
  if (at + HEADER > bytes.length) return -1;
  const length = view.getUint32(at, true);
  const end = at + 16 + length;
  if (length === 0 || end > bytes.length) return -1;
  // Sequences are below 2^53: a high word beyond that is no record header.
  if (view.getUint32(at + 12, true) >= 0x200000) return -1;
  if (Number(view.getBigUint64(at + 8, true)) <= after) return -1;
  return crc32(bytes.subarray(at + 8, end)) === view.getUint32(at + 4, true) ? end : -1;
}

/**
 * Decodes the intact records of one segment's bytes, in order. A stretch that
 * holds no intact record (a torn tail, or damage) is reported to `onDamage`,
 * and decoding resumes at the next intact record after it, if any: one whose
 * checksum holds and whose sequence is above the last one read (and above
 * `after`, the last sequence of the segments before).
 *
 * @example
 * ```ts
 * import { decodeRecords, recordParts, type WalDamage } from "./wal.ts";
 * import assert from "node:assert/strict";
 * const a = recordParts(1, 1, new Uint8Array([7])).flatMap((part) => [...part]);
 * const b = recordParts(2, 1, new Uint8Array([8])).flatMap((part) => [...part]);
 * b[17] ^= 1; // a flipped bit in the second record's body
 * const bytes = new Uint8Array([...a, ...b, 0, 0]);
 * const damage: WalDamage[] = [];
 * const seqs = [...decodeRecords(bytes, 0, (d) => damage.push(d))].map((r) => r.seq);
 * assert.deepEqual(seqs, [1]);
 * assert.deepEqual(damage, [{ offset: 18, bytes: 20, tail: true, after: 1 }]);
 * ```
 */
export function* decodeRecords(
  bytes: Uint8Array,
  after = 0,
  onDamage: (damage: WalDamage) => void = () => {},
): Generator<WalRecord> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let last = after;
  while (at < bytes.length) {
    let end = recordEnd(bytes, view, at, last);
    if (end < 0) {
      let next = at + 1;
      while (next + HEADER <= bytes.length && (end = recordEnd(bytes, view, next, last)) < 0) {
        next++;
      }
      if (end < 0) {
        onDamage({ offset: at, bytes: bytes.length - at, tail: true, after: last });
        return;
      }
      const resumesAt = Number(view.getBigUint64(next + 8, true));
      onDamage({ offset: at, bytes: next - at, tail: false, after: last, resumesAt });
      at = next;
    }
    last = Number(view.getBigUint64(at + 8, true));
    yield { seq: last, format: bytes[at + 16], body: bytes.subarray(at + HEADER, end) };
    at = end;
  }
}

/**
 * A write-ahead log in `dir`.
 *
 * @example
 * ```ts
 * import { Wal } from "./wal.ts";
 * import { SeqSet } from "../storage/seq_ranges.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const wal = await Wal.open(dir);
 * await wal.replay(() => {});
 * await wal.append(wal.lastSeq + 1, 1, new TextEncoder().encode("{}"));
 * await wal.close(new SeqSet());
 * const again = await Wal.open(dir);
 * assert.equal(await again.replay(() => {}), 1);
 * await again.close(new SeqSet());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Wal {
  readonly #dir: string;
  readonly #segmentBytes: number;
  #sealed: Segment[] = [];
  /** Whether {@linkcode Wal.replay} has read the segments found at open. */
  #replayed = false;
  #active?: { segment: Segment; file: Deno.FsFile };
  #nextNumber = 1;
  #queue: Pending[] = [];
  /** How long each fsync of appended records took. */
  readonly fsyncSeconds: Histogram = new Histogram();
  #writeBuffer = new Uint8Array(0);
  #writing?: Promise<void>;
  #rotate = false;
  /** Whether writes fail (a full disk): logged once per change, never sticky. */
  readonly health = new FaultState("write-ahead log");
  /** What replay skipped. */
  readonly damage: WalDamageCounters = { stretches: 0, bytes: 0, records: 0 };
  /** The largest sequence logged or found at open. */
  lastSeq = 0;

  private constructor(dir: string, segmentBytes: number) {
    this.#dir = dir;
    this.#segmentBytes = segmentBytes;
  }

  /** Opens the log in `dir`, creating it; existing segments wait for {@linkcode replay}. */
  static async open(dir: string, options: { segmentBytes?: number } = {}): Promise<Wal> {
    await Deno.mkdir(dir, { recursive: true });
    const wal = new Wal(dir, options.segmentBytes ?? 64 * 1024 * 1024);
    const found: { name: string; number: number }[] = [];
    for await (const e of Deno.readDir(dir)) {
      const match = e.isFile ? NAME.exec(e.name) : null;
      if (match) found.push({ name: e.name, number: Number(match[1]) });
    }
    found.sort((a, b) => a.number - b.number);
    for (const { name, number } of found) {
      wal.#sealed.push({ path: join(dir, name), first: 0, last: 0, bytes: 0 });
      wal.#nextNumber = number + 1;
    }
    return wal;
  }

  /**
   * Reads every intact record of the segments found at open, in order, and
   * hands each to `onRecord` (awaited, so replay respects backpressure).
   * Damaged stretches are skipped, logged and counted in {@linkcode damage}.
   *
   * @returns how many records were read.
   */
  async replay(onRecord: (record: WalRecord) => Promise<void> | void): Promise<number> {
    let count = 0;
    for (const segment of this.#sealed) {
      const bytes = await Deno.readFile(segment.path);
      segment.bytes = bytes.length;
      const damaged: WalDamage[] = [];
      for (const record of decodeRecords(bytes, this.lastSeq, (d) => damaged.push(d))) {
        if (segment.last === 0) segment.first = record.seq;
        segment.last = this.lastSeq = record.seq;
        count++;
        await onRecord(record);
      }
      for (const d of damaged) {
        // Sequences missing around a stretch were lost with it; a torn tail
        // held at least the record whose write it interrupted, and so did a
        // stretch with no record before it (sequences need not start at 1:
        // see the ingester's sequence floor).
        const lost = d.tail || d.after === 0 ? 1 : Math.max(d.resumesAt! - d.after - 1, 0);
        this.damage.stretches++;
        this.damage.bytes += d.bytes;
        this.damage.records += lost;
        log(
          `WAL segment ${segment.path}: ${d.bytes} bytes at offset ${d.offset} hold no intact record (${
            d.tail
              ? "a torn tail: a write was interrupted; its records are lost"
              : `damaged; replay resumes at sequence ${d.resumesAt}, ${lost} records lost`
          }); skipped`,
        );
      }
    }
    this.#replayed = true;
    return count;
  }

  /**
   * Appends a record and resolves once it is on disk (fsynced). Sequences must
   * be appended in increasing order.
   *
   * @throws {StorageError} when the write or fsync fails; the next append tries a new segment.
   */
  append(seq: number, format: number, body: RecordBody): Promise<void> {
    const parts = recordParts(seq, format, body);
    const bytes = parts.reduce((n, part) => n + part.length, 0);
    this.lastSeq = seq;
    const done = new Promise<void>((resolve, reject) =>
      this.#queue.push({ parts, bytes, seq, resolve, reject })
    );
    this.#writing ??= this.#drain();
    return done;
  }

  /**
   * The records of `batch` in one buffer, for one write: a buffer kept from
   * batch to batch (up to {@linkcode KEPT_WRITE_BUFFER} bytes), whose pages
   * are already mapped, where a new one would fault in each of its pages.
   */
  #join(batch: Pending[], size: number): Uint8Array {
    let joined = this.#writeBuffer;
    if (size > joined.length) {
      joined = new Uint8Array(Math.max(size, Math.min(2 * joined.length, KEPT_WRITE_BUFFER)));
      if (joined.length <= KEPT_WRITE_BUFFER) this.#writeBuffer = joined;
    }
    let at = 0;
    for (const p of batch) {
      for (const part of p.parts) {
        joined.set(part, at);
        at += part.length;
      }
    }
    return joined;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        let size = 0;
        for (const p of batch) size += p.bytes;
        try {
          if (!this.#active || this.#rotate || this.#active.segment.bytes >= this.#segmentBytes) {
            await this.#startSegment();
          }
          const { segment, file } = this.#active!;
          const joined = this.#join(batch, size);
          for (let done = 0; done < size;) done += await file.write(joined.subarray(done, size));
          const syncStarted = performance.now();
          await file.syncData();
          this.fsyncSeconds.observe((performance.now() - syncStarted) / 1000);
          if (segment.last === 0) segment.first = batch[0].seq;
          segment.last = batch[batch.length - 1].seq;
          segment.bytes += size;
          this.health.recover();
          for (const p of batch) p.resolve();
        } catch (cause) {
          const error = this.health.fail(cause);
          await this.#abandonActive();
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  /**
   * After a failed write the active segment's tail is in doubt: cut it back to
   * what was acknowledged and seal it, so the next append starts a new file.
   */
  async #abandonActive(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    this.#active = undefined;
    try {
      await active.file.truncate(active.segment.bytes);
      await active.file.syncData();
    } catch {
      // Replay skips whatever of the failed write is left as a damaged tail.
    }
    active.file.close();
    this.#sealed.push(active.segment);
  }

  async #startSegment(): Promise<void> {
    if (this.#active) {
      this.#active.file.close();
      this.#sealed.push(this.#active.segment);
      this.#active = undefined;
    }
    const path = join(this.#dir, `${String(this.#nextNumber++).padStart(20, "0")}${SUFFIX}`);
    const file = await Deno.open(path, { write: true, createNew: true });
    this.#active = { segment: { path, first: 0, last: 0, bytes: 0 }, file };
    this.#rotate = false;
    const dir = await Deno.open(this.#dir, { read: true });
    await dir.sync().finally(() => dir.close());
  }

  /**
   * Deletes every sealed segment whose records are all in `stored` (held by
   * durable, cataloged files), and asks for a new segment when the active one is
   * fully stored too, so it can go at the next checkpoint. The active segment
   * is never deleted.
   *
   * @returns how many segments were deleted.
   */
  async checkpoint(stored: SeqSet): Promise<number> {
    const keep: Segment[] = [];
    let deleted = 0;
    for (const s of this.#sealed) {
      if (s.last === 0 || stored.coversRange(s.first, s.last)) {
        await Deno.remove(s.path).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        deleted++;
      } else keep.push(s);
    }
    this.#sealed = keep;
    const active = this.#active?.segment;
    if (active && active.last !== 0 && stored.coversRange(active.first, active.last)) {
      this.#rotate = true;
    }
    return deleted;
  }

  /** Number of segment files on disk. */
  get segments(): number {
    return this.#sealed.length + (this.#active ? 1 : 0);
  }

  /**
   * The lowest sequence a segment on disk may hold: a replay could bring back
   * records from it on, so files holding them must stay. `Infinity` when the
   * log holds nothing.
   */
  get floor(): number {
    // Before replay the segments' contents are unknown: any sequence.
    if (!this.#replayed) return 0;
    let floor = Infinity;
    for (const s of [...this.#sealed, ...(this.#active ? [this.#active.segment] : [])]) {
      if (s.last !== 0) floor = Math.min(floor, s.first); // an empty segment holds nothing
    }
    return floor;
  }

  /**
   * Waits for queued appends, closes the active segment and deletes every
   * segment fully held by `stored`, so a clean restart replays nothing.
   */
  async close(stored: SeqSet): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#active) {
      this.#active.file.close();
      this.#sealed.push(this.#active.segment);
      this.#active = undefined;
    }
    await this.checkpoint(stored);
  }
}
