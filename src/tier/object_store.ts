/**
 * The object store of the cold tier: what rotation, cold reads, reconcile and
 * client-side search need of S3, and nothing more. `s3_store.ts` implements
 * it with the AWS SDK; tests run it against a real S3 server (`s3rver`).
 *
 * @module
 */

/** One object of a listing. */
export interface ObjectInfo {
  /** The full key, prefix included. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/** The object store's part in the cold tier. */
export interface ObjectStore {
  /** A name for messages and stats, such as `s3://bucket/prefix/`. */
  readonly name: string;
  /**
   * The longest a request of a {@linkcode put} runs before the put fails: a
   * put given up may still be completed by the store a little later.
   */
  readonly uploadDeadlineMs: number;
  /**
   * Uploads the local file at `path` (of `size` bytes) as `key`: one PUT, or a
   * multipart upload when large. Resolves once the store holds the object.
   */
  put(key: string, path: string, size: number): Promise<void>;
  /** The size of `key`, or `undefined` when there is no such object. */
  head(key: string): Promise<number | undefined>;
  /** Every object whose key starts with `prefix`, all pages of the listing. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Exactly `length` bytes of `key` at `offset`: one ranged GET. */
  get(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Deletes `key` (nothing when absent). */
  delete(key: string): Promise<void>;
  /**
   * A URL that reads `key` without credentials for `expirySeconds`, ranged
   * reads included (`Range` is not a signed header).
   */
  presign(key: string, expirySeconds: number): Promise<string>;
  /** Releases the client's connections. */
  close(): void;
}

/**
 * The store could not be reached or refused a request: the caller degrades
 * (a query skips the segment with a warning, rotation retries next cycle).
 */
export class ObjectStoreError extends Error {
  /** Creates the error; `cause` is the underlying failure. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ObjectStoreError";
  }
}
