/**
 * Random access to the bytes of a file: the only way readers touch segment
 * data, so a local file and (later) an object in S3 serve alike. Sources are
 * opened through the {@linkcode SourceOpener} of `opener.ts`.
 *
 * @module
 */

/** Random-access reads over an immutable file. */
export interface ByteSource {
  /** A name for error messages. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * Bytes at the end of the file that hold its index and footer, when known
   * beforehand (a remote file's key says it): the index is then read in one
   * request instead of a guess and a second read.
   */
  readonly tailHint?: number;
  /**
   * Reads exactly `length` bytes at `offset`: one round trip (a `pread`
   * locally, a range request remotely), so callers batch what they can.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the handle. */
  close(): Promise<void>;
}

/**
 * The bytes exist but cannot be fetched now (the object store is unreachable
 * or refused the request): unlike damage, nothing is wrong with the file, so
 * a query skips it with a warning and nothing is quarantined.
 */
export class SourceUnavailableError extends Error {
  /** Creates the error; `cause` is the underlying failure. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SourceUnavailableError";
  }
}
