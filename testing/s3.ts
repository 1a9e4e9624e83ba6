/**
 * Test helpers for the cold tier: a real S3 server (`s3rver` under Node, in a
 * temp folder, on a free port) that a test can stop and restart to simulate an
 * outage, and a counting proxy that tells how many GETs and bytes a read cost.
 *
 * `s3rver` is pinned in `tests/s3/package-lock.json` and installed by `.ci/run`
 * (`npm ci --prefix tests/s3`). It does not verify SigV4 signatures and
 * mishandles suffix ranges (`bytes=-N`): tests must not rely on either.
 *
 * @module
 */

import { join } from "node:path";
import { type LocationReader, openLocalSource } from "../src/storage/source/opener.ts";

const S3RVER = new URL("../tests/s3/node_modules/s3rver/bin/s3rver.js", import.meta.url).pathname;

/** A running `s3rver` with one bucket. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: use it with path-style addressing. */
  readonly endpoint: string;
  /** The bucket created at start. */
  readonly bucket: string;
  /** The server's data folder, kept across restarts. */
  readonly dir: string;
  /**
   * What the AWS SDK's default chain needs to talk to it: credentials that
   * `s3rver` accepts, the region, and no instance-metadata lookups. Pass it to
   * a child process, or set it in `Deno.env` for an in-process client.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the server (SIGTERM, then waits); the folder stays. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder, after {@linkcode S3Server.stop}. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** One `s3rver` process and the drains of its output. */
interface Running {
  process: Deno.ChildProcess;
  port: number;
  /** Resolves when the process has exited and its output is drained. */
  done: Promise<void>;
}

/**
 * Starts `s3rver` on 127.0.0.1 on a free port with a fresh temp folder and
 * creates `bucket` in it.
 */
export async function startS3(options: { bucket?: string } = {}): Promise<S3Server> {
  try {
    await Deno.stat(S3RVER);
  } catch {
    throw new Error("s3rver is not installed: run `npm ci --prefix tests/s3` (.ci/run does)");
  }
  const bucket = options.bucket ?? "loge-test";
  const dir = await Deno.makeTempDir({ prefix: "loge-s3-" });
  let running: Running | undefined;
  try {
    running = await spawn(dir, 0, bucket);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const port = running.port;
  const stop = async () => {
    if (!running) return;
    const { process, done } = running;
    running = undefined;
    try {
      process.kill("SIGTERM");
    } catch { /* already exited */ }
    await done;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    env: {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    stop,
    async restart() {
      if (running) throw new Error("s3rver is running: stop it before restarting it");
      running = await spawn(dir, port, bucket);
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs `node s3rver.js` and waits for its `S3rver listening on <address>:<port>` line. */
async function spawn(dir: string, port: number, bucket: string): Promise<Running> {
  const process = new Deno.Command("node", {
    args: [
      S3RVER,
      "--directory",
      dir,
      "--address",
      "127.0.0.1",
      "--port",
      String(port),
      "--silent",
      "--configure-bucket",
      bucket,
    ],
    env: { NODE_OPTIONS: "--openssl-legacy-provider" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const errDone = process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (err += chunk) }),
  );
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let listening: RegExpExecArray | null = null;
  while (!listening) {
    const { done, value } = await reader.read();
    if (done) {
      await errDone;
      await process.status;
      throw new Error(`s3rver exited before listening on port ${port}:\n${out}${err}`);
    }
    out += value;
    listening = /S3rver listening on [^\s]+:(\d+)/.exec(out);
  }
  const outDone = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    process,
    port: Number(listening[1]),
    done: Promise.all([process.status, errDone, outDone]).then(() => {}),
  };
}

/** What a {@linkcode CountingProxy} has forwarded since the start or the last reset. */
export interface ProxyCounts {
  /** GET requests. */
  gets: number;
  /** Response body bytes, of every request. */
  bytes: number;
  /** Requests of any method. */
  requests: number;
}

/** A forwarding HTTP proxy that counts what passes through it. */
export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as its (path-style) endpoint. */
  readonly url: string;
  /** The counts so far. */
  counts(): ProxyCounts;
  /** Zeroes the counts. */
  reset(): void;
  /** Stops listening and waits for requests in flight. */
  stop(): Promise<void>;
  /** {@linkcode CountingProxy.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1, port 0, that forwards every request (method,
 * path, query, headers such as `Range`, body) to `target` and counts GETs and
 * response body bytes. When `target` is unreachable it answers 502.
 *
 * `intercept` sees each request first (to record it, or to inject a fault): a
 * response it returns is answered (and counted) instead of forwarding.
 */
export function startCountingProxy(
  target: string,
  options: { intercept?: (req: Request) => Response | undefined } = {},
): CountingProxy {
  const base = target.replace(/\/+$/, "");
  let counts: ProxyCounts = { gets: 0, bytes: 0, requests: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    counts.requests++;
    if (req.method === "GET") counts.gets++;
    let res: Response | undefined = options.intercept?.(req);
    if (!res) {
      try {
        res = await fetch(`${base}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.bytes(),
          redirect: "manual",
        });
      } catch (error) {
        return new Response(`counting proxy: cannot reach ${base}: ${error}`, { status: 502 });
      }
    }
    const body = await res.bytes();
    counts.bytes += body.length;
    const nullBody = req.method === "HEAD" || res.status === 204 || res.status === 304;
    return new Response(nullBody ? null : body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  });
  const stop = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    counts: () => ({ ...counts }),
    reset() {
      counts = { gets: 0, bytes: 0, requests: 0 };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Flags of a `loge serve` on `s3` that compacts at once and rotates within a
 * second (the rotate age `age`, every `interval`), for end-to-end tests.
 */
export function tierArgs(
  s3: S3Server,
  { endpoint = s3.endpoint, node = "node-a", interval = "200ms", age = "300ms", grace = "300ms" } =
    {},
): string[] {
  return [
    ...["--compact-interval", "200ms", "--compact-min-files", "1", "--flush-interval", "100ms"],
    ...["--s3-bucket", s3.bucket, "--s3-endpoint", endpoint, "--s3-force-path-style"],
    ...["--s3-rotate-age", age, "--s3-rotate-interval", interval, "--s3-rotate-grace", grace],
    ...["--node-id", node],
  ];
}

/**
 * 16 hex digits from `seed` (FNV-1a and a mix): lines that carry them differ
 * from each other, so files outgrow the tails the cold tier caches.
 *
 * @example
 * ```ts
 * import { hexToken } from "./s3.ts";
 * import assert from "node:assert/strict";
 * assert.match(hexToken("web:1"), /^[0-9a-f]{16}$/);
 * assert.notEqual(hexToken("web:1"), hexToken("web:2"));
 * ```
 */
export function hexToken(seed: string): string {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  const g = Math.imul(h ^ (h >>> 15), 2246822507);
  return ((h >>> 0).toString(16) + (g >>> 0).toString(16)).padStart(16, "0");
}

/**
 * A reader of the objects `s3` holds, straight from its folder (where
 * `s3rver` keeps each object as `<key>._S3rver_object`), for checks that read
 * a stopped server's remote files without S3 requests. `prefix` is the
 * server's `--s3-prefix`.
 */
export function s3FolderReader(s3: S3Server, prefix = "loge/"): LocationReader {
  return (segment) => {
    const key = `${prefix}${segment.name}`;
    const cut = key.lastIndexOf("/") + 1;
    return openLocalSource(
      join(s3.dir, s3.bucket, key.slice(0, cut)),
      `${key.slice(cut)}._S3rver_object`,
    );
  };
}
