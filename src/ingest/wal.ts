/**
 * The write-ahead log: every durable push is appended here and fsynced before
 * it is acknowledged. Concurrent appends share one write and one fsync (group
 * commit). Records carry the payload's sequence number, so replay can skip what
 * the catalog already holds.
 *
 * Record: `u32 length | u32 CRC-32 | u64 seq | u8 format | body`, where length
 * counts format and body, and the CRC covers seq, format and body. Segments are
 * files `wal/<first seq>.wal`; a new one starts at open, past a size limit, and
 * when a checkpoint finds the active one fully stored.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { join } from "node:path";
import type { SeqSet } from "../storage/seq_ranges.ts";

/** One logged push body. */
export interface WalRecord {
  readonly seq: number;
  readonly format: number;
  readonly body: Uint8Array;
}

const HEADER = 17;
const SUFFIX = ".wal";

interface Segment {
  path: string;
  /** First and last sequence held; `last` is 0 while empty. */
  first: number;
  last: number;
  bytes: number;
}

interface Pending {
  record: Uint8Array;
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Encodes one record.
 *
 * @example
 * ```ts
 * import { encodeRecord } from "./wal.ts";
 * console.log(encodeRecord(1, 1, new Uint8Array(3)).length); // 20
 * ```
 */
export function encodeRecord(seq: number, format: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length + 1, true);
  view.setBigUint64(8, BigInt(seq), true);
  out[16] = format;
  out.set(body, HEADER);
  view.setUint32(4, crc32(out.subarray(8)), true);
  return out;
}

/**
 * Decodes the records of one segment's bytes, stopping at a torn or corrupt
 * tail (an interrupted write), which is not an error.
 */
export function* decodeRecords(bytes: Uint8Array): Generator<WalRecord> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEADER <= bytes.length) {
    const length = view.getUint32(at, true);
    const end = at + 8 + 8 + length;
    if (length === 0 || end > bytes.length) return;
    if (crc32(bytes.subarray(at + 8, end)) !== view.getUint32(at + 4, true)) return;
    yield {
      seq: Number(view.getBigUint64(at + 8, true)),
      format: bytes[at + 16],
      body: bytes.subarray(at + HEADER, end),
    };
    at = end;
  }
}

/**
 * A write-ahead log in `dir`.
 *
 * @example
 * ```ts ignore
 * import { Wal } from "./wal.ts";
 * const wal = await Wal.open("tmp/wal");
 * await wal.replay((r) => console.log(r.seq));
 * await wal.append(wal.lastSeq + 1, 1, new TextEncoder().encode("{}"));
 * await wal.close();
 * ```
 */
export class Wal {
  readonly #dir: string;
  readonly #segmentBytes: number;
  #sealed: Segment[] = [];
  #active?: { segment: Segment; file: Deno.FsFile };
  #queue: Pending[] = [];
  #writing?: Promise<void>;
  #rotate = false;
  #failed?: Error;
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
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(SUFFIX)) names.push(e.name);
    }
    names.sort();
    for (const name of names) {
      const path = join(dir, name);
      wal.#sealed.push({ path, first: Number(name.slice(0, -SUFFIX.length)), last: 0, bytes: 0 });
    }
    return wal;
  }

  /**
   * Reads every intact record of the segments found at open, in order, and
   * hands each to `onRecord` (awaited, so replay respects backpressure).
   *
   * @returns how many records were read.
   */
  async replay(onRecord: (record: WalRecord) => Promise<void> | void): Promise<number> {
    let count = 0;
    for (const segment of this.#sealed) {
      const bytes = await Deno.readFile(segment.path);
      segment.bytes = bytes.length;
      for (const record of decodeRecords(bytes)) {
        if (segment.last === 0) segment.first = record.seq;
        segment.last = record.seq;
        if (record.seq > this.lastSeq) this.lastSeq = record.seq;
        count++;
        await onRecord(record);
      }
    }
    return count;
  }

  /**
   * Appends a record and resolves once it is on disk (fsynced). Sequences must
   * be appended in increasing order.
   */
  append(seq: number, format: number, body: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const record = encodeRecord(seq, format, body);
    this.lastSeq = seq;
    const done = new Promise<void>((resolve, reject) =>
      this.#queue.push({ record, seq, resolve, reject })
    );
    this.#writing ??= this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          if (!this.#active || this.#rotate || this.#active.segment.bytes >= this.#segmentBytes) {
            await this.#startSegment(batch[0].seq);
          }
          const { segment, file } = this.#active!;
          let size = 0;
          for (const p of batch) size += p.record.length;
          const joined = new Uint8Array(size);
          let at = 0;
          for (const p of batch) {
            joined.set(p.record, at);
            at += p.record.length;
          }
          for (let done = 0; done < joined.length;) done += await file.write(joined.subarray(done));
          await file.syncData();
          if (segment.last === 0) segment.first = batch[0].seq;
          segment.last = batch[batch.length - 1].seq;
          segment.bytes += size;
          for (const p of batch) p.resolve();
        } catch (error) {
          // A failed write leaves the log in doubt: refuse further appends.
          this.#failed = new Error(`write-ahead log failed: ${(error as Error).message}`);
          for (const p of [...batch, ...this.#queue]) p.reject(this.#failed);
          this.#queue = [];
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #startSegment(first: number): Promise<void> {
    if (this.#active) {
      this.#active.file.close();
      this.#sealed.push(this.#active.segment);
    }
    const path = join(this.#dir, `${String(first).padStart(20, "0")}${SUFFIX}`);
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    this.#active = { segment: { path, first, last: 0, bytes: 0 }, file };
    this.#rotate = false;
    const dir = await Deno.open(this.#dir, { read: true });
    await dir.sync().finally(() => dir.close());
  }

  /**
   * Deletes every sealed segment whose records are all in `stored` (held by
   * durable, cataloged files), and asks for a new segment when the active one is
   * fully stored too, so it can go at the next checkpoint.
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
