/**
 * The one way to open a segment file: a {@linkcode SourceOpener} turns a
 * catalog entry (its `name` and `location`) into a {@linkcode ByteSource}.
 * `local` files live in the data folder; other locations (the S3 tier) are
 * served by readers registered per location.
 *
 * Workers get plain job data, not an opener: they open local files with
 * {@linkcode openLocalSource} / {@linkcode openLocalSourceSync}, the opener's
 * own local part.
 *
 * @module
 */

import { join } from "node:path";
import { type ByteSource, SourceUnavailableError } from "./byte_source.ts";
import { openFileSource, openFileSourceSync } from "./file.ts";

/** The location of files in the data folder itself. */
export const LOCAL = "local";

/** What it takes to open a segment: a catalog entry has all of it. */
export interface SegmentLocation {
  /** The file name (also the object key's last part for remote locations). */
  readonly name: string;
  /** Where the file lives: {@linkcode LOCAL} or a remote tier. */
  readonly location: string;
  /** The size the catalog records, when known (a remote reader needs no HEAD request). */
  readonly bytes?: number;
}

/** Opens the segments of one non-local location (the S3 tier registers one). */
export type LocationReader = (segment: SegmentLocation) => Promise<ByteSource>;

/**
 * Thrown when a segment's location has no reader (a server started without
 * the tier its catalog has files in): the file is fine but cannot be read
 * here, so queries skip it with a warning.
 */
export class UnknownLocationError extends SourceUnavailableError {
  override name = "UnknownLocationError";

  constructor(segment: SegmentLocation) {
    super(
      `Cannot open segment ${segment.name}: location ${JSON.stringify(segment.location)} ` +
        `has no reader (only ${JSON.stringify(LOCAL)} files can be read)`,
    );
  }
}

/** Opens the local segment `name` of data folder `dir` (the opener's local part). */
export function openLocalSource(dir: string, name: string): Promise<ByteSource> {
  return openFileSource(join(dir, name));
}

/** {@linkcode openLocalSource} with synchronous reads, for workers (see `file.ts`). */
export function openLocalSourceSync(dir: string, name: string): ByteSource {
  return openFileSourceSync(join(dir, name));
}

/**
 * Opens segments by location: local ones in the data folder, others through
 * the reader registered for their location.
 *
 * @example
 * ```ts
 * import { SourceOpener, UnknownLocationError } from "./opener.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/l1-abc-00000001.loge`, new Uint8Array(32));
 * const opener = new SourceOpener(dir);
 * const source = await opener.open({ name: "l1-abc-00000001.loge", location: "local" });
 * assert.equal(source.size, 32);
 * await source.close();
 * await assert.rejects(
 *   opener.open({ name: "l1-abc-00000002.loge", location: "s3://bucket" }),
 *   UnknownLocationError,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SourceOpener {
  /** The data folder, home of `local` files. */
  readonly dir: string;
  readonly #readers: Map<string, LocationReader>;

  /** Opens local files in `dir`, and other locations through `readers`. */
  constructor(dir: string, readers: Readonly<Record<string, LocationReader>> = {}) {
    this.dir = dir;
    this.#readers = new Map(Object.entries(readers));
  }

  /** Opens the files of `location` with `reader` from now on. */
  register(location: string, reader: LocationReader): void {
    if (location === LOCAL) throw new Error(`Cannot register a reader for ${LOCAL} files`);
    this.#readers.set(location, reader);
  }

  /**
   * The byte source of `segment`.
   *
   * @throws {UnknownLocationError} when its location has no reader.
   */
  open(segment: SegmentLocation): Promise<ByteSource> {
    if (segment.location === LOCAL) return openLocalSource(this.dir, segment.name);
    const reader = this.#readers.get(segment.location);
    if (!reader) return Promise.reject(new UnknownLocationError(segment));
    return reader(segment);
  }
}
