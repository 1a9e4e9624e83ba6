/**
 * Raw HTTP/1.1 over TCP, for what `fetch` will not send: foreign transfer
 * codings, bodies that stall or stop half way.
 *
 * @module
 */

const encoder = new TextEncoder();

/** An open connection that has sent `head` (and maybe part of a body). */
export interface RawConnection {
  /** Sends more bytes. */
  send(bytes: string | Uint8Array): Promise<void>;
  /** Reads until the server closes or `ms` pass; returns what arrived. */
  response(ms?: number): Promise<string>;
  /** Closes the connection. */
  close(): void;
}

/** Opens a connection to the server at `url` and sends `text`. */
export async function rawConnect(url: string, text: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const send = async (bytes: string | Uint8Array) => {
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    for (let done = 0; done < data.length;) done += await conn.write(data.subarray(done));
  };
  await send(text);
  let closed = false;
  return {
    send,
    async response(ms = 10_000) {
      const decoder = new TextDecoder();
      let out = "";
      const buf = new Uint8Array(16 * 1024);
      const timer = setTimeout(() => conn.close(), ms);
      try {
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          out += decoder.decode(buf.subarray(0, n), { stream: true });
          // One answer is all these tests wait for.
          const head = out.indexOf("\r\n\r\n");
          const length = /content-length: (\d+)/i.exec(out)?.[1];
          if (head >= 0 && length !== undefined && out.length >= head + 4 + Number(length)) break;
        }
      } finally {
        clearTimeout(timer);
      }
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** The status code of a raw HTTP answer. */
export function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}
