/**
 * Clients of loge's live tails, for tests and the benchmark: Loki's
 * WebSocket (`/loki/api/v1/tail`) through Deno's WebSocket, and the
 * server-sent events of `/api/v1/tail` through `fetch`. Each collects the
 * lines it receives, with the moment each arrived, independently of the
 * server's code.
 *
 * @module
 */

import { parseExact } from "./http.ts";

/** A line a tail client received. */
export interface TailLine {
  ts: bigint;
  line: string;
  /** Loki: the stream object's labels (parsed labels merged in); SSE: the stream's labels. */
  labels: Record<string, string>;
  /** SSE: labels the pipeline's parsers added. */
  parsed?: Record<string, string>;
  /** SSE: the line came from the replay of `start`. */
  replay: boolean;
  /** `performance.now()` when its batch arrived. */
  at: number;
}

/** What every tail client offers. */
export interface TailClient {
  /** Lines received so far, in the order received. */
  readonly lines: TailLine[];
  /** Lines the server reported dropped. */
  readonly dropped: () => number;
  /** Called with each line as it arrives (after it is added to `lines`). */
  onLine?: (line: TailLine) => void;
  /** Ends the connection. */
  close(): void;
}

/** A Loki WebSocket tail. */
export interface WsTail extends TailClient {
  /** Every frame, parsed. */
  readonly frames: LokiTailFrame[];
  /** Resolves with the close code and reason when the connection closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** A frame of Loki's tail. */
export interface LokiTailFrame {
  streams: { stream: Record<string, string>; values: [string, string, unknown?][] }[];
  dropped_entries?: { labels: Record<string, string>; timestamp: string }[];
}

const wsUrl = (url: string, path: string, params: Record<string, string>) =>
  `${url.replace(/^http/, "ws")}${path}?${new URLSearchParams(params)}`;

/**
 * Opens `/loki/api/v1/tail` with `params`; resolves once the socket is
 * open (the server subscribed the tail before answering the upgrade), or
 * rejects when the connection fails.
 */
export async function openWsTail(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<WsTail> {
  // Deno's WebSocket takes headers in its second argument.
  const socket = new WebSocket(
    wsUrl(url, "/loki/api/v1/tail", params),
    { headers } as unknown as string[],
  );
  const lines: TailLine[] = [];
  const frames: LokiTailFrame[] = [];
  let dropped = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  const client: WsTail = {
    lines,
    frames,
    dropped: () => dropped,
    closed,
    close: () => socket.close(1000),
  };
  socket.onmessage = (e) => {
    const at = performance.now();
    const frame = JSON.parse(e.data) as LokiTailFrame;
    frames.push(frame);
    dropped += frame.dropped_entries?.length ?? 0;
    for (const { stream, values } of frame.streams) {
      for (const [ts, line] of values) {
        const received = { ts: BigInt(ts), line, labels: stream, replay: false, at };
        lines.push(received);
        client.onLine?.(received);
      }
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = (e) =>
      reject(new Error(`tail WebSocket failed: ${(e as ErrorEvent).message}`));
  });
  return client;
}

/** A server-sent events tail. */
export interface SseTail extends TailClient {
  /** Every event: its name (`message` by default) and parsed data. */
  // deno-lint-ignore no-explicit-any
  readonly events: { name: string; data: any }[];
  /** Resolves when the stream ends. */
  readonly ended: Promise<void>;
}

/** The answer of a tail request that did not open: its status and text. */
export class TailRefused extends Error {
  /** The refusal `status` with its body `text`. */
  constructor(readonly status: number, readonly text: string) {
    super(`tail refused: ${status} ${text}`);
    this.name = "TailRefused";
  }
}

/**
 * Opens `/api/v1/tail` with `params`; resolves once the answer's headers
 * arrived (the server subscribed the tail before answering).
 *
 * @throws {TailRefused} when the server answers anything but 200.
 */
export async function openSseTail(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<SseTail> {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/tail?${new URLSearchParams(params)}`, {
    headers,
    signal: controller.signal,
  });
  if (res.status !== 200) throw new TailRefused(res.status, await res.text());
  const lines: TailLine[] = [];
  const events: { name: string; data: unknown }[] = [];
  let dropped = 0;
  const client = {
    lines,
    events,
    dropped: () => dropped,
    close: () => controller.abort(),
  } as SseTail & { ended?: Promise<void> };
  const onEvent = (text: string) => {
    const at = performance.now();
    let name = "message";
    let data = "";
    for (const field of text.split("\n")) {
      if (field.startsWith("event: ")) name = field.slice(7);
      else if (field.startsWith("data: ")) data += field.slice(6);
    }
    if (data === "") return; // a comment (heartbeat)
    const parsed = parseExact(data);
    events.push({ name, data: parsed });
    if (name !== "message") return;
    dropped += parsed.dropped ?? 0;
    for (const e of parsed.entries) {
      const received: TailLine = {
        ts: BigInt(e.timestamp),
        line: e.line,
        labels: e.labels,
        parsed: e.parsed,
        replay: parsed.replay === true,
        at,
      };
      lines.push(received);
      client.onLine?.(received);
    }
  };
  client.ended = (async () => {
    let buffer = "";
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return client;
}
