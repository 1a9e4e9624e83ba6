/**
 * The cold tier's object store on S3 (or anything that speaks its API, such as
 * MinIO or `s3rver`), through `@aws-sdk/client-s3`.
 *
 * - Credentials come only from the SDK's default chain (environment, shared
 *   config and credentials files, container or instance role): never from
 *   flags, never logged.
 * - Uploads up to `partSize` bytes are one PUT; larger ones are multipart,
 *   read from the file one part at a time, and aborted when a step fails.
 * - Reads are explicit byte ranges (`bytes=start-end`, never a suffix range)
 *   and must return exactly the bytes asked for. With `readUrlBase` they are
 *   plain unsigned GETs of `${readUrlBase}${key}` (a public bucket or a CDN).
 * - No call waits forever: connecting gives up after 10 s, each operation has
 *   a deadline (retries included) and the SDK makes at most 3 attempts, so an
 *   unreachable store fails a call within seconds.
 * - Every failure is an {@linkcode ObjectStoreError} naming the operation, the
 *   object and the cause; only `head` of a missing key is not a failure.
 *
 * @module
 */

import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ObjectCannedACL,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { type ObjectInfo, type ObjectStore, ObjectStoreError } from "./object_store.ts";

/** How to reach the bucket; the CLI's `--s3-*` flags. */
export interface S3StoreOptions {
  /** The bucket (`--s3-bucket`). */
  bucket: string;
  /** A custom endpoint such as `http://127.0.0.1:9000` (`--s3-endpoint`); empty or absent: AWS. */
  endpoint?: string;
  /**
   * The region (`--s3-region`); empty or absent: the SDK's own lookup
   * (`AWS_REGION`, the profile's config), else `us-east-1`.
   */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most non-AWS servers need (`--s3-force-path-style`). */
  forcePathStyle: boolean;
  /**
   * When set, `get` reads `${readUrlBase}${key}` with an unsigned `fetch` and
   * a `Range` header (a public bucket or a CDN; `--s3-read-url-base`), instead
   * of a signed GetObject.
   */
  readUrlBase?: string;
  /** A canned ACL for uploads, such as `public-read` (`--s3-acl`); empty or absent: none. */
  acl?: string;
  /**
   * The part size of multipart uploads, at least 5 MiB (S3's minimum); larger
   * objects are multipart. Default 8 MiB. Raised when an object would need
   * more than S3's 10,000 parts.
   */
  partSize?: number;
  /** Keys per ListObjectsV2 page, 1 to 1000 (default 1000, S3's maximum). */
  listPageSize?: number;
}

const MIB = 1024 * 1024;
/** S3's smallest part (except the last one). */
const MIN_PART_SIZE = 5 * MIB;
const DEFAULT_PART_SIZE = 8 * MIB;
/** S3's largest part count. */
const MAX_PARTS = 10_000;
/** Attempts per request (the first try and two retries). */
const MAX_ATTEMPTS = 3;
/** Giving up on establishing a connection. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Deadlines of whole operations, retries and body transfer included. */
const METADATA_DEADLINE_MS = 30_000;
const GET_DEADLINE_MS = 60_000;
const UPLOAD_DEADLINE_MS = 300_000;

/** An {@linkcode ObjectStore} on an S3 bucket. */
export class S3Store implements ObjectStore {
  /** `s3://bucket`. */
  readonly name: string;
  readonly uploadDeadlineMs = UPLOAD_DEADLINE_MS;
  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #readUrlBase: string | undefined;
  readonly #acl: ObjectCannedACL | undefined;
  readonly #partSize: number;
  readonly #listPageSize: number;

  /** Creates the client; nothing is sent until the first call. */
  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new TypeError("S3 bucket name is empty");
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
      throw new RangeError(`S3 part size must be an integer of at least ${MIN_PART_SIZE} bytes`);
    }
    const listPageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
      throw new RangeError("S3 list page size must be an integer from 1 to 1000");
    }
    this.name = `s3://${options.bucket}`;
    this.#bucket = options.bucket;
    this.#readUrlBase = options.readUrlBase || undefined;
    this.#acl = (options.acl || undefined) as ObjectCannedACL | undefined;
    this.#partSize = partSize;
    this.#listPageSize = listPageSize;
    this.#client = new S3Client({
      region: options.region || defaultRegion,
      endpoint: options.endpoint || undefined,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    });
  }

  /** Uploads `path` (`size` bytes) as `key`: one PUT up to the part size, else multipart. */
  async put(key: string, path: string, size: number): Promise<void> {
    const what = `put ${this.#url(key)} from ${path}`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch (error) {
      throw new ObjectStoreError(`Cannot ${what}: ${describe(error)}`, { cause: error });
    }
    try {
      const actual = (await file.stat()).size;
      if (actual !== size) {
        throw new ObjectStoreError(`Cannot ${what}: the file has ${actual} bytes, not ${size}`);
      }
      const partSize = Math.max(this.#partSize, Math.ceil(size / MAX_PARTS));
      if (size <= partSize) {
        const body = await readFull(file, size);
        await this.#send(what, UPLOAD_DEADLINE_MS, (signal) =>
          this.#client.send(
            new PutObjectCommand({
              Bucket: this.#bucket,
              Key: key,
              Body: body,
              ContentLength: size,
              ContentType: "application/octet-stream",
              ACL: this.#acl,
            }),
            { abortSignal: signal },
          ));
      } else {
        await this.#putMultipart(key, file, size, partSize, what);
      }
    } catch (error) {
      if (error instanceof ObjectStoreError) throw error;
      throw new ObjectStoreError(`Cannot ${what}: ${describe(error)}`, { cause: error });
    } finally {
      file.close();
    }
  }

  async #putMultipart(
    key: string,
    file: Deno.FsFile,
    size: number,
    partSize: number,
    what: string,
  ): Promise<void> {
    const created = await this.#send(`${what} (create multipart upload)`, METADATA_DEADLINE_MS, (
      signal,
    ) =>
      this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: key,
          ContentType: "application/octet-stream",
          ACL: this.#acl,
          ChecksumAlgorithm: "CRC32",
        }),
        { abortSignal: signal },
      ));
    const uploadId = created.UploadId;
    if (!uploadId) throw new ObjectStoreError(`Cannot ${what}: the store returned no upload id`);
    try {
      const parts: CompletedPart[] = [];
      for (let offset = 0, number = 1; offset < size; offset += partSize, number++) {
        const body = await readFull(file, Math.min(partSize, size - offset));
        const part = await this.#send(
          `${what} (part ${number})`,
          UPLOAD_DEADLINE_MS,
          (signal) =>
            this.#client.send(
              new UploadPartCommand({
                Bucket: this.#bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: number,
                Body: body,
                ContentLength: body.length,
                ChecksumAlgorithm: "CRC32",
              }),
              { abortSignal: signal },
            ),
        );
        parts.push({ PartNumber: number, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
      }
      await this.#send(
        `${what} (complete multipart upload)`,
        UPLOAD_DEADLINE_MS,
        (signal) =>
          this.#client.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.#bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts },
            }),
            { abortSignal: signal },
          ),
      );
    } catch (error) {
      const failure = error instanceof ObjectStoreError
        ? error
        : new ObjectStoreError(`Cannot ${what}: ${describe(error)}`, { cause: error });
      try {
        await this.#send(
          `abort multipart upload ${uploadId} of ${this.#url(key)}`,
          METADATA_DEADLINE_MS,
          (signal) =>
            this.#client.send(
              new AbortMultipartUploadCommand({
                Bucket: this.#bucket,
                Key: key,
                UploadId: uploadId,
              }),
              { abortSignal: signal },
            ),
        );
      } catch (abortError) {
        // Its parts stay until the bucket's lifecycle rule for incomplete uploads removes them.
        const why = abortError instanceof ObjectStoreError ? abortError.message : abortError;
        throw new ObjectStoreError(`${failure.message}; then: ${why}`, { cause: failure.cause });
      }
      throw failure;
    }
  }

  /** The size of `key`, or `undefined` when the store answers 404. */
  async head(key: string): Promise<number | undefined> {
    const what = `head ${this.#url(key)}`;
    const size = await this.#send(what, METADATA_DEADLINE_MS, async (signal) => {
      try {
        const out = await this.#client.send(
          new HeadObjectCommand({ Bucket: this.#bucket, Key: key }),
          { abortSignal: signal },
        );
        return out.ContentLength ?? null;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
    if (size === null) {
      throw new ObjectStoreError(`Cannot ${what}: the answer has no Content-Length`);
    }
    return size;
  }

  /** Every object under `prefix`, following ListObjectsV2's continuation tokens. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.#send(
        `list ${this.#url(prefix)}*${objects.length ? ` (after ${objects.length} keys)` : ""}`,
        METADATA_DEADLINE_MS,
        (signal) =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.#bucket,
              Prefix: prefix,
              MaxKeys: this.#listPageSize,
              ContinuationToken: token,
            }),
            { abortSignal: signal },
          ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) objects.push({ key: object.Key, size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw new ObjectStoreError(
          `Cannot list ${this.#url(prefix)}*: a truncated page has no continuation token`,
        );
      }
    } while (token);
    return objects;
  }

  /** Exactly `length` bytes of `key` at `offset`, by one `bytes=start-end` range GET. */
  async get(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`Offset must be a non-negative integer: ${offset}`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Length must be a non-negative integer: ${length}`);
    }
    if (length === 0) return new Uint8Array(0);
    const range = `bytes=${offset}-${offset + length - 1}`;
    const what = `get ${this.#url(key)} ${range}`;
    const body = await this.#send(what, GET_DEADLINE_MS, async (signal) => {
      let status: number | undefined;
      let bytes: Uint8Array;
      if (this.#readUrlBase) {
        const res = await fetch(`${this.#readUrlBase}${encodeKey(key)}`, {
          // Ranges are of the stored bytes: no compressed representation.
          headers: { range, "accept-encoding": "identity" },
          signal,
        });
        status = res.status;
        if (status !== 206 && status !== 200) {
          const text = (await res.text()).slice(0, 200);
          throw new Error(`HTTP ${status} ${res.statusText}${text ? `: ${text}` : ""}`);
        }
        if (status === 200 && offset > 0) await res.body?.cancel();
        bytes = status === 200 && offset > 0 ? new Uint8Array(0) : await res.bytes();
      } else {
        const out = await this.#client.send(
          new GetObjectCommand({ Bucket: this.#bucket, Key: key, Range: range }),
          { abortSignal: signal },
        );
        status = out.$metadata.httpStatusCode;
        bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      }
      if (status === 200 && offset > 0) {
        throw new ObjectStoreError(`Cannot ${what}: the store ignored the Range header (HTTP 200)`);
      }
      return bytes;
    });
    if (body.length !== length) {
      throw new ObjectStoreError(
        `Cannot ${what}: received ${body.length} bytes, expected ${length} (is the object shorter?)`,
      );
    }
    return body;
  }

  /** Deletes `key`; deleting a missing key succeeds, as in S3. */
  async delete(key: string): Promise<void> {
    await this.#send(
      `delete ${this.#url(key)}`,
      METADATA_DEADLINE_MS,
      (signal) =>
        this.#client.send(
          new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }),
          { abortSignal: signal },
        ),
    );
  }

  /** A presigned GetObject URL for `key`, valid `expirySeconds` (ranged reads work). */
  async presign(key: string, expirySeconds: number): Promise<string> {
    try {
      return await getSignedUrl(
        this.#client,
        new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
        { expiresIn: expirySeconds },
      );
    } catch (error) {
      throw new ObjectStoreError(`Cannot presign ${this.#url(key)}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  /** Closes the client's pooled connections; the store is unusable after. */
  close(): void {
    this.#client.destroy();
  }

  /** {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #url(key: string): string {
    return `${this.name}/${key}`;
  }

  /**
   * Runs one operation under a deadline (`signal` aborts it), turning any
   * failure into an {@linkcode ObjectStoreError} that says `Cannot <what>`.
   */
  async #send<T>(
    what: string,
    deadlineMs: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadlineMs);
    try {
      return await run(controller.signal);
    } catch (error) {
      if (error instanceof ObjectStoreError) throw error;
      const why = controller.signal.aborted
        ? `not done within ${deadlineMs / 1000} s`
        : describe(error);
      throw new ObjectStoreError(`Cannot ${what}: ${why}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The SDK's region lookup (environment, profile), else `us-east-1`. */
let regionLookup: Promise<string> | undefined;
function defaultRegion(): Promise<string> {
  return regionLookup ??= (async () => {
    const probe = new S3Client({});
    try {
      return await probe.config.region();
    } catch {
      return "us-east-1";
    } finally {
      probe.destroy();
    }
  })();
}

/** Reads exactly `length` bytes from the file's current position. */
async function readFull(file: Deno.FsFile, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) throw new Error(`the file ended ${length - filled} bytes early`);
    filled += n;
  }
  return buffer;
}

/** A key as a URL path: each segment percent-encoded, slashes kept. */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** The HTTP status of an SDK error, if it got an answer. */
function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata
    ?.httpStatusCode;
}

/**
 * A failure in one line: the error's name or code, the HTTP status, the
 * message and the attempts the SDK made, such as
 * `NoSuchKey (HTTP 404): The specified key does not exist.`
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, $metadata } = error as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  let text = error.message || "unknown error";
  const name = error.name !== "Error" ? error.name : code;
  const status = $metadata?.httpStatusCode;
  const label = [name && !text.includes(name) ? name : "", status ? `(HTTP ${status})` : ""]
    .filter(Boolean).join(" ");
  if (label) text = `${label}: ${text}`;
  if ($metadata?.attempts && $metadata.attempts > 1) text += ` (${$metadata.attempts} attempts)`;
  return text;
}
