// @ts-check
/**
 * Server-sent events read from a response body (`fetch` can send the API
 * key, which `EventSource` cannot).
 *
 * @module
 */

/**
 * The events of a `text/event-stream` body as they arrive: their `event`
 * name (`message` by default) and their `data` lines joined. Comments and
 * events without data are skipped.
 *
 * @example
 * ```ts
 * import { serverEvents } from "./event_stream.js";
 * import assert from "node:assert/strict";
 * const body = new Response(': ping\n\ndata: {"a":1}\n\nevent: end\ndata: bye\n\n').body!;
 * const events = [];
 * for await (const e of serverEvents(body)) events.push(e);
 * assert.deepEqual(events, [
 *   { event: "message", data: '{"a":1}' },
 *   { event: "end", data: "bye" },
 * ]);
 * ```
 *
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<{ event: string, data: string }>}
 */
export async function* serverEvents(body) {
  // A reader, not `for await`: Safari's streams are not async iterable.
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      /** @type {string[]} */
      const data = [];
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        if (colon === 0) continue; // a comment
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + (line[colon + 1] === " " ? 2 : 1));
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}
