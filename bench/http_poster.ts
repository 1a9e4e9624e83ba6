/**
 * The bench clients' HTTP: one keep-alive HTTP/1.1 connection that posts bodies and reads the
 * answers, written straight to a TCP socket.
 *
 * Why not `fetch`: the clients share the machine's cores with the server they measure, and `fetch`
 * spends about 1.8 ns of CPU a body byte where a socket write spends 0.3 (416 KB bodies on
 * loopback), so a client's CPU would grow with its format's body size and the larger formats would
 * be measured slower for what the client, not the server, spends. The shippers loge serves (Go,
 * Rust and C programs) send bodies at a socket's cost.
 *
 * @module
 */

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** An HTTP answer: its status and its body as text. */
export interface PostAnswer {
  /** The status code. */
  status: number;
  /** The body, decoded as UTF-8. */
  text: string;
}

/**
 * Posts bodies to one URL over one connection, one request at a time; a broken or timed-out
 * connection is closed and the next request opens a new one.
 *
 * @example
 * ```ts ignore
 * import { HttpPoster } from "./http_poster.ts";
 * const poster = new HttpPoster("http://127.0.0.1:3100/loki/api/v1/push");
 * const answer = await poster.post(new TextEncoder().encode('{"streams":[]}'), "application/json", 5000);
 * console.log(answer.status);
 * poster.close();
 * ```
 */
export class HttpPoster {
  readonly #hostname: string;
  readonly #port: number;
  readonly #target: string;
  #conn: Deno.TcpConn | null = null;
  /** Bytes read and not yet consumed are `#buf[#start, #end)`. */
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /**
   * @param url The URL every body is posted to (`http:` only).
   * @throws {TypeError} If `url` is not an `http:` URL.
   */
  constructor(url: string) {
    const u = new URL(url);
    if (u.protocol !== "http:") throw new TypeError(`Cannot post to ${url}: only http: is spoken`);
    this.#hostname = u.hostname.replace(/^\[|\]$/g, "");
    this.#port = Number(u.port || 80);
    this.#target = `${u.pathname}${u.search}`;
  }

  /**
   * Posts `body` and reads the whole answer.
   *
   * @throws {Error} If the connection fails or closes early, the answer is not HTTP/1.1, or no
   * answer arrives within `timeoutMs` (the connection is closed then).
   */
  async post(body: Uint8Array, contentType: string, timeoutMs: number): Promise<PostAnswer> {
    const conn = this.#conn ??= await this.#open();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      const head = `POST ${this.#target} HTTP/1.1\r\nhost: ${this.#hostname}:${this.#port}\r\n` +
        `content-type: ${contentType}\r\ncontent-length: ${body.length}\r\n\r\n`;
      await writeAll(conn, encoder.encode(head));
      await writeAll(conn, body);
      return await this.#readAnswer();
    } catch (err) {
      this.close();
      if (timedOut) throw new Error(`No answer within ${timeoutMs} ms`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection, if one is open. */
  close(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#start = this.#end = 0;
    try {
      conn?.close();
    } catch { /* already closed */ }
  }

  async #open(): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
    // The head and the body go out as two writes: Nagle must not hold the body's last segment.
    conn.setNoDelay(true);
    return conn;
  }

  async #readAnswer(): Promise<PostAnswer> {
    const headEnd = await this.#find(CRLF2) + 4;
    const head = latin1.decode(this.#buf.subarray(this.#start, headEnd));
    this.#start = headEnd;
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
    if (status === undefined) throw new Error(`Not an HTTP/1.1 answer: ${head.slice(0, 80)}`);
    const header = (name: string) =>
      new RegExp(`\r\n${name}:[ \t]*([^\r]*)`, "i").exec(head)?.[1].trim().toLowerCase();
    const length = header("content-length");
    const code = Number(status);
    let text: string;
    // 1xx, 204 and 304 answers have no body, whatever their headers say (RFC 9112 §6.3).
    if (code < 200 || code === 204 || code === 304) {
      text = "";
    } else if (header("transfer-encoding")?.endsWith("chunked")) {
      text = await this.#readChunked();
    } else if (length !== undefined) {
      text = utf8.decode(await this.#take(Number(length)));
    } else {
      text = utf8.decode(await this.#takeToClose());
      this.close();
    }
    if (header("connection") === "close") this.close();
    return { status: code, text };
  }

  async #readChunked(): Promise<string> {
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const sizeEnd = await this.#find(CRLF);
      const size = parseInt(latin1.decode(this.#buf.subarray(this.#start, sizeEnd)), 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new Error("Bad chunk size in an answer");
      this.#start = sizeEnd + 2;
      if (size === 0) {
        // No trailers are sent to the bench's clients: the last chunk ends with one blank line.
        await this.#take(2);
        return text + decoder.decode();
      }
      text += decoder.decode(await this.#take(size), { stream: true });
      await this.#take(2);
    }
  }

  /** The index in `#buf` where `needle` starts, reading until it arrives. */
  async #find(needle: Uint8Array): Promise<number> {
    for (let from = this.#start;;) {
      const at = indexOf(this.#buf, needle, from, this.#end);
      if (at >= 0) return at;
      from = Math.max(this.#start, this.#end - needle.length + 1);
      const shift = this.#start;
      await this.#fill();
      from -= shift - this.#start;
    }
  }

  /** A copy of the next `n` bytes, reading until they arrive. */
  async #take(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) await this.#fill(n);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  async #takeToClose(): Promise<Uint8Array> {
    while (await this.#fill(0, true));
    return this.#take(this.#end - this.#start);
  }

  /**
   * Reads more bytes into `#buf`, first moving the unconsumed ones to its front and growing it
   * to hold `want` of them. Returns false at the end of the stream when `endOk`.
   */
  async #fill(want = 0, endOk = false): Promise<boolean> {
    const conn = this.#conn;
    if (conn === null) throw new Error("The connection was closed");
    const kept = this.#end - this.#start;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = kept;
    }
    if (this.#buf.length - kept < Math.max(want - kept, 16 * 1024)) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, want + 16 * 1024));
      grown.set(this.#buf.subarray(0, kept));
      this.#buf = grown;
    }
    const n = await conn.read(this.#buf.subarray(this.#end));
    if (n === null) {
      if (endOk) return false;
      throw new Error("The server closed the connection before answering");
    }
    this.#end += n;
    return true;
  }
}

const CRLF = encoder.encode("\r\n");
const CRLF2 = encoder.encode("\r\n\r\n");

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0];
  for (let i = haystack.indexOf(first, from); i >= 0 && i + needle.length <= to;) {
    let k = 1;
    while (k < needle.length && haystack[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
    i = haystack.indexOf(first, i + 1);
  }
  return -1;
}
