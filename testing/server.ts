/**
 * Test helpers: run the real `loge serve` process on port 0 in a temp folder
 * and talk to it over HTTP, as a user would. Shared by `tests/` and `bench/`.
 *
 * @module
 */

import { V8_FLAGS, V8_FLAGS_ENV } from "../src/cli/runtime.ts";
import { MAIN } from "./cli.ts";

/** A running server process. */
export interface TestServer {
  readonly url: string;
  readonly dir: string;
  readonly process: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then waits; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL, then waits. */
  kill(): Promise<void>;
}

/**
 * Starts `deno run -A main.ts serve --port 0 --output-path <dir> ...args` and
 * waits for its listening line; `main` runs another script in place of
 * `main.ts` (the bench's floor server).
 */
export async function startServer(
  options: { dir?: string; args?: string[]; env?: Record<string, string>; main?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "loge-test-" });
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      options.main ?? MAIN,
      "serve",
      "--port",
      "0",
      "--output-path",
      dir,
      ...(options.args ?? []),
    ],
    stdout: "piped",
    stderr: "piped",
    // Started as a relaunched server runs (src/cli/runtime.ts), without the relaunch: the
    // process under test is the server itself.
    env: { [V8_FLAGS_ENV]: V8_FLAGS.join(","), ...options.env },
  }).spawn();
  let err = "";
  const errDone = process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (err += chunk) }),
  );
  const lines = process.stdout.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  let out = "";
  let url: string | undefined;
  while (!url) {
    const { done, value } = await reader.read();
    if (done) {
      await errDone;
      await process.status;
      throw new Error(`server exited before listening:\n${out}${err}`);
    }
    out += value;
    url = /listening on (https?:\/\/localhost:\d+)/.exec(out)?.[1];
  }
  const outDone = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const finished = async () => {
    const status = await process.status;
    await Promise.all([errDone, outDone]);
    return status.code;
  };
  return {
    url: url.replace("localhost", "127.0.0.1"),
    dir,
    process,
    stderr: () => err,
    async stop() {
      process.kill("SIGTERM");
      return await finished();
    },
    async kill() {
      process.kill("SIGKILL");
      await finished();
    },
  };
}

/** Runs `fn` with a fresh server, stopping it and removing its folder after. */
export async function withServer(
  fn: (server: TestServer) => Promise<void>,
  options: { dir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<void> {
  const server = await startServer(options);
  try {
    await fn(server);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(server.dir, { recursive: true });
  }
}

/** POSTs a JSON push payload; returns the status and parsed JSON body (if any). */
export async function pushJson(
  url: string,
  payload: unknown,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${url}/api/v1/push`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
