/**
 * A load client of the benchmark run as its own process (`push_worker.ts`,
 * `sustained_client.ts`): spawned as `deno run -A <script> '<json options>'`, it prints one JSON
 * object per line on stdout (a `ready` report, maybe progress, a `done` report) and starts its
 * timed work when it reads a `go` line on stdin ({@linkcode waitForGo}).
 *
 * Separate processes keep the clients' encoding and bookkeeping off the harness's event loop,
 * which also samples the server and times queries.
 *
 * @module
 */

/** The message types every client prints: each report names its type. */
export interface ClientMessage {
  type: string;
}

/**
 * A spawned client process and the JSON lines it prints.
 *
 * @example
 * ```ts ignore
 * import { ClientProcess } from "./client_process.ts";
 * const client = ClientProcess.spawn(new URL("./push_worker.ts", import.meta.url), options);
 * await client.expect("ready");
 * await client.go();
 * const done = await client.expect("done");
 * await client.finish();
 * ```
 */
export class ClientProcess {
  readonly process: Deno.ChildProcess;
  readonly #stderr: Promise<string>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  private constructor(process: Deno.ChildProcess) {
    this.process = process;
    this.#stderr = new Response(process.stderr).text();
    this.#reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Spawns `deno run -A <script> '<JSON of options>'` with every stream piped. */
  static spawn(script: URL, options: unknown): ClientProcess {
    return new ClientProcess(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script.pathname, JSON.stringify(options)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
  }

  /** The next JSON object on stdout, or `undefined` once stdout is closed. */
  async next(): Promise<ClientMessage | undefined> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim() !== "") return JSON.parse(line) as ClientMessage;
        continue;
      }
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += value;
    }
  }

  /**
   * The next message, which must be of one of `types`.
   *
   * @throws {Error} If the client exits first (with its exit code and stderr), or prints
   * another type.
   */
  async expect<T extends ClientMessage>(...types: T["type"][]): Promise<T> {
    const message = await this.next();
    const due = types.map((t) => `"${t}"`).join(" or ");
    if (message !== undefined && types.includes(message.type)) return message as T;
    if (message !== undefined) {
      throw new Error(`Load client sent "${message.type}" where ${due} was due`);
    }
    const status = await this.process.status;
    throw new Error(
      `Load client exited (code ${status.code}) without a ${due} report: ${
        (await this.#stderr).trim().slice(0, 500)
      }`,
    );
  }

  /** Writes the `go` line and closes stdin. */
  async go(): Promise<void> {
    const writer = this.process.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
  }

  /** Reads stdout and stderr to their end and waits for the exit. */
  async finish(): Promise<void> {
    while (!(await this.#reader.read()).done) { /* discard */ }
    await this.#stderr;
    await this.process.status;
  }

  /** SIGKILL, if it still runs. */
  kill(): void {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

/**
 * In a client process: reads stdin until a line `go` arrives.
 *
 * @example
 * ```ts ignore
 * import { waitForGo } from "./client_process.ts";
 * console.log(JSON.stringify({ type: "ready" }));
 * await waitForGo();
 * ```
 * @throws {Error} If stdin closes first.
 */
export async function waitForGo(): Promise<void> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^go$/m.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error("load client: stdin closed before the go signal");
    text += value;
  }
  reader.releaseLock();
}
