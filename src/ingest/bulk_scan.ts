/**
 * The fast path of Elasticsearch bulk bodies: `bulk_scan.c`, built into
 * `bulk_scan.wasm` (`deno task build:wasm`), reads a body chunk by chunk:
 * its lines, the actions (each distinct action line is asked of the caller
 * once), and the documents into the values of the fields the mapping names,
 * the structured-metadata JSON of the others and a slot per distinct set of
 * stream field values, without the strings and objects `JSON.parse` builds
 * (which cost more than the whole JSON push's decode). A document it declines
 * (arrays, fractions, duplicate fields, invalid JSON, …) is mapped by
 * `JSON.parse`, and a body it cannot read line by line is left whole to it;
 * `es_bulk_test.ts` holds the two paths to the same answers.
 *
 * @module
 */

import * as wasm from "./bulk_scan.wasm";
import type { ReceivedBody } from "./received_body.ts";

/** Kinds of a value in a document's record (`bulk_scan.c`). */
const enum Kind {
  Absent = 0,
  String = 1,
  Integer = 2,
  True = 3,
  False = 4,
  Null = 5,
  /** A value the caller does not read (`keep_read` in `bulk_scan.c`). */
  Dropped = 6,
}

/** What {@linkcode BodyScan.scan} stopped for (`bulk_scan.c`). */
export const enum Stop {
  /** Every complete action and document of the chunk is read: take the records, load the rest. */
  Done = 0,
  /** The line {@linkcode BodyScan.askedLine} is at an action's place and new: set its action or skip it. */
  AskAction = 1,
  /** A line that may be blank by JavaScript's `trim`: leave the body to `JSON.parse`. */
  Abort = 2,
  /** The body ends after an action that needs a document line. */
  NoDocument = 3,
  /** The records are full: take them, load the rest. */
  Full = 4,
  /** An action beyond those {@linkcode BodyScan.load} allowed. */
  Limit = 5,
}

/** `NAME_FLAGS`: the time field or a stream field (never metadata). */
const EXCLUDED = 1;
/** `NAME_FLAGS`: a stream field. */
const STREAM = 2;
const DECLINED = 1;
const NOT_STORED = 1;

/** The largest chunk of a body the scanner reads at once: a line must fit in it. */
export const IN_CAP: number = wasm.in_cap();
const MAX_NAMES = wasm.max_names();
const MAX_NAME_BYTES = wasm.max_name_bytes();
const REC_INTS = wasm.rec_ints();
const HEAD_INTS = wasm.head_ints();
const memory = wasm.memory as WebAssembly.Memory;
/** The module's memory: it never grows (the C side has fixed buffers), but is read afresh anyway. */
const buffer = () => memory.buffer as ArrayBuffer;
/**
 * The scanner's text is valid UTF-8 (the body was checked), so the replacing
 * decoder is exact; a page may start with U+FEFF, which must stay.
 */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();
let nextId = 0;

/** The fields a mapping names, as the scanner takes them. */
export interface ScanFields {
  /** Fields tried in order for the line. */
  readonly msgFields: readonly string[];
  /** The time field. */
  readonly timeField: string;
  /** The stream fields. */
  readonly streamFields: readonly string[];
}

/**
 * Reads bulk bodies with `bulk_scan.wasm`, for one mapping. A body is read in
 * chunks ({@linkcode BodyScan.load}); each {@linkcode BodyScan.scan} goes on
 * through the chunk until it needs the caller, and the records it made are
 * read by their place with the other methods until the next load.
 *
 * @example
 * ```ts
 * import { BodyScan, Stop } from "./bulk_scan.ts";
 * import { ReceivedBody } from "./received_body.ts";
 * import assert from "node:assert/strict";
 * const scan = new BodyScan({ msgFields: ["message"], timeField: "@timestamp", streamFields: ["app"] });
 * const body = new ReceivedBody([
 *   new TextEncoder().encode('{"create":{}}\n{"app":"web","message":"hi",'),
 *   new TextEncoder().encode('"pid":7,"@timestamp":"2026-01-01T00:00:00.5Z"}\n'),
 * ]);
 * assert.equal(scan.load(body, 0, 1, 1000), true);
 * assert.equal(scan.scan(), Stop.AskAction);
 * assert.equal(new TextDecoder().decode(scan.askedLine()), '{"create":{}}');
 * scan.setAction(0, true, true);
 * assert.equal(scan.scan(), Stop.Done);
 * assert.equal(scan.records, 1);
 * assert.equal(scan.declined(0), false);
 * assert.equal(scan.value(0, scan.msgId(0)), "hi");
 * assert.equal(scan.value(0, scan.streamIds[0]), "web");
 * assert.equal(scan.metadata(0), '{"pid":"7"}');
 * assert.equal(scan.time(0), 1767225600500000000n);
 * ```
 */
export class BodyScan {
  /** The scanner's name id of each stream field. */
  readonly streamIds: readonly number[];
  /** The scanner's name id of the time field. */
  readonly timeId: number;
  /** Whether the mapping fits the scanner (names few and short enough); when not, use `JSON.parse`. */
  readonly usable: boolean;
  readonly #names: Uint8Array[];
  readonly #flags: number[];
  /** Tells this mapping from others in the module, whose state every scan shares. */
  readonly #id = nextId++;
  /** The slots' generation this mapping last loaded in. */
  #generation = -1;
  /** What the caller keeps for each stream slot ({@linkcode BodyScan.labelSlot}). */
  #slotKeys: unknown[] = [];
  /** Where the loaded chunk starts in the body, and its length. */
  #from = 0;
  #length = 0;
  /** The byte offset in OUT of each page, the end of the last, and their text as decoded so far. */
  #pageAt = new Uint32Array(0);
  #pageEnd = 0;
  #texts: (string | undefined)[] = [];
  #rec = new Int32Array(0);
  #ts = new BigInt64Array(0);

  constructor(fields: ScanFields) {
    const ids = new Map<string, number>();
    const names: Uint8Array[] = [];
    const flags: number[] = [];
    const idOf = (name: string) => {
      let id = ids.get(name);
      if (id === undefined) {
        ids.set(name, id = names.length);
        names.push(encoder.encode(name));
        flags.push(0);
      }
      return id;
    };
    fields.msgFields.forEach((f, rank) => {
      const id = idOf(f);
      if (flags[id] >> 8 === 0) flags[id] |= (rank + 1) << 8;
    });
    this.timeId = idOf(fields.timeField);
    flags[this.timeId] |= EXCLUDED;
    this.streamIds = fields.streamFields.map((f) => {
      const id = idOf(f);
      flags[id] |= EXCLUDED | STREAM;
      return id;
    });
    this.#names = names;
    this.#flags = flags;
    this.usable = names.length <= MAX_NAMES && names.every((n) => n.length <= MAX_NAME_BYTES);
  }

  /**
   * Loads the chunk of `body` from byte `from` (a line's start, line number
   * `line`) up to the last line end that fits the scanner, or to the body's
   * end; at most `actions` actions may be read from it
   * ({@linkcode Stop.Limit}). Returns whether every byte of the chunk is
   * ASCII, or `undefined` when not even one line fits.
   */
  load(body: ReceivedBody, from: number, line: number, actions: number): boolean | undefined {
    let to = body.size;
    if (to - from > IN_CAP) {
      to = body.bytes().lastIndexOf(0x0a, from + IN_CAP - 1) + 1;
      if (to <= from) return undefined;
    }
    this.#configure();
    // Straight from the chunks the body arrived in: a body that fits is never joined.
    body.copy(new Uint8Array(buffer(), wasm.in_ptr(), IN_CAP), from, to);
    this.#from = from;
    this.#length = to - from;
    this.#texts = [];
    const ascii = wasm.load(to - from, to === body.size ? 1 : 0, line, actions) === 1;
    const generation = wasm.slot_generation();
    if (generation !== this.#generation) {
      this.#generation = generation;
      this.#slotKeys = [];
    }
    return ascii;
  }

  /** Copies the mapping's names into the module, whose state every scan shares. */
  #configure(): void {
    const names = new Uint8Array(buffer(), wasm.names_ptr(), MAX_NAMES * MAX_NAME_BYTES);
    const lens = new Uint32Array(buffer(), wasm.name_len_ptr(), MAX_NAMES);
    const flags = new Int32Array(buffer(), wasm.name_flags_ptr(), MAX_NAMES);
    this.#names.forEach((n, i) => {
      names.set(n, i * MAX_NAME_BYTES);
      lens[i] = n.length;
      flags[i] = this.#flags[i];
    });
    wasm.configure(this.#names.length, this.timeId, this.#id);
  }

  /** Reads on through the chunk until it needs the caller. */
  scan(): Stop {
    const stop = wasm.scan() as Stop;
    if (stop === Stop.Done || stop === Stop.Full) {
      const records = wasm.records();
      const pages = wasm.pages();
      this.#pageAt = Uint32Array.from(new Uint32Array(buffer(), wasm.page_ptr(), pages));
      this.#pageEnd = wasm.out_len();
      this.#texts = new Array(pages);
      this.#rec = new Int32Array(buffer(), wasm.rec_ptr(), records * REC_INTS);
      this.#ts = new BigInt64Array(buffer(), wasm.rec_ptr(), (records * REC_INTS) / 2);
    }
    return stop;
  }

  /** The text of document `j`'s page of the scanner's output. */
  #text(j: number): string {
    const page = this.#rec[j * REC_INTS + 12];
    return this.#texts[page] ??= utf8.decode(
      new Uint8Array(
        buffer(),
        wasm.out_ptr() + this.#pageAt[page],
        (page + 1 < this.#pageAt.length ? this.#pageAt[page + 1] : this.#pageEnd) -
          this.#pageAt[page],
      ),
    );
  }

  /**
   * The loaded chunk's bytes `[start, end)`, offsets within the chunk: a view
   * of the scanner's memory, valid until the next load.
   */
  #chunkBytes(start: number, end: number): Uint8Array {
    return new Uint8Array(buffer(), wasm.in_ptr() + start, end - start);
  }

  /** The loaded chunk's bytes (valid until the next load). */
  chunk(): Uint8Array {
    return this.#chunkBytes(0, this.#length);
  }

  /** The bytes of the line {@linkcode Stop.AskAction} asks about (valid until the next load). */
  askedLine(): Uint8Array {
    return this.#chunkBytes(wasm.ask_start(), wasm.ask_end());
  }

  /** The number of the line being read (the asked one, or the first after the records). */
  get lineNo(): number {
    return wasm.line_no();
  }

  /** The id given to the action of the line being read. */
  get actionId(): number {
    return wasm.action_id();
  }

  /**
   * The asked line is an action, `id`: when `takesLine`, the next non-blank
   * line is its document, which is stored when `stores`.
   */
  setAction(id: number, takesLine: boolean, stores: boolean): void {
    wasm.set_action(id, takesLine ? 1 : 0, stores ? 1 : 0);
  }

  /** The asked line is blank. */
  skipLine(): void {
    wasm.skip_line();
  }

  /** Records made since the chunk was loaded. */
  get records(): number {
    return wasm.records();
  }

  /** Bytes of the body read whole once the records are taken: load again from here. */
  get next(): number {
    return this.#from + wasm.consumed();
  }

  /** The action id of record `j`. */
  action(j: number): number {
    return this.#rec[j * REC_INTS + 8];
  }

  /** Whether record `j` is a document to store (else its action stores nothing). */
  stores(j: number): boolean {
    return this.#rec[j * REC_INTS + 11] !== NOT_STORED;
  }

  /** The bytes of record `j`'s document line (valid until the next load). */
  document(j: number): Uint8Array {
    const at = j * REC_INTS;
    return this.#chunkBytes(this.#rec[at + 9], this.#rec[at + 10]);
  }

  /** Whether document `j` was declined: map it with `JSON.parse`. */
  declined(j: number): boolean {
    return this.#rec[j * REC_INTS] === DECLINED;
  }

  /** The name id of document `j`'s message field, -1 when it has none. */
  msgId(j: number): number {
    return this.#rec[j * REC_INTS + 1];
  }

  /**
   * Document `j`'s stream slot, -1 for none: documents with one slot have
   * equal stream field values. Slots last from body to body.
   */
  slot(j: number): number {
    return this.#rec[j * REC_INTS + 7];
  }

  /** Changes when the slots start afresh: a slot number then means another stream. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * What the caller keeps for slot `slot` ({@linkcode BodyScan.labelSlot}):
   * it lasts as long as the slots do.
   */
  slotKey(slot: number): unknown {
    return this.#slotKeys[slot];
  }

  /**
   * Keeps `key` for slot `slot`. The documents of the slot scanned from
   * then on keep no stream field values ({@linkcode BodyScan.value} throws
   * for them): the caller has what it made of them.
   */
  labelSlot(slot: number, key: unknown): void {
    this.#slotKeys[slot] = key;
    // The module's slots are this mapping's only while their generation is the one it loaded in.
    if (wasm.slot_generation() === this.#generation) {
      new Uint8Array(buffer(), wasm.slot_labelled_ptr(), slot + 1)[slot] = 1;
    }
  }

  /**
   * The value of name `id` in document `j` as `JSON.parse` gives it;
   * `undefined` when missing or null.
   */
  value(j: number, id: number): string | number | boolean | undefined {
    const at = j * REC_INTS + HEAD_INTS + 3 * id;
    switch (this.#rec[at] as Kind) {
      case Kind.String:
        return this.#text(j).slice(this.#rec[at + 1], this.#rec[at + 2]);
      case Kind.Integer:
        return Number(this.#text(j).slice(this.#rec[at + 1], this.#rec[at + 2]));
      case Kind.True:
        return true;
      case Kind.False:
        return false;
      case Kind.Dropped:
        throw new Error(`bulk scanner: the value of name ${id} in document ${j} was not kept`);
      default:
        return undefined;
    }
  }

  /** Document `j`'s time when it is RFC 3339 in UTC the scanner read; else `undefined`. */
  time(j: number): bigint | undefined {
    return this.#rec[j * REC_INTS + 6] === 1 ? this.#ts[(j * REC_INTS) / 2 + 2] : undefined;
  }

  /** Document `j`'s structured metadata JSON, `undefined` when it has none. */
  metadata(j: number): string | undefined {
    const at = j * REC_INTS;
    const start = this.#rec[at + 2];
    const end = this.#rec[at + 3];
    return start < end ? this.#text(j).slice(start, end) : undefined;
  }
}
