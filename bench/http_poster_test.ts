import assert from "node:assert/strict";
import { HttpPoster } from "./http_poster.ts";

/** A real server whose answer depends on the path; it records the client ports it saw. */
function startServer() {
  const clientPorts = new Set<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      clientPorts.add(info.remoteAddr.port);
      const body = new Uint8Array(await req.arrayBuffer());
      switch (new URL(req.url).pathname) {
        case "/sum": {
          let sum = 0;
          for (const b of body) sum = (sum * 31 + b) % 1_000_003;
          return new Response(`${body.length} ${sum} ${req.headers.get("content-type")}`, {
            status: 201,
          });
        }
        case "/chunked": {
          const parts = ["héllo ", "wörld ", "x".repeat(100_000)];
          return new Response(
            new ReadableStream<Uint8Array>({
              pull(c) {
                const next = parts.shift();
                if (next === undefined) c.close();
                else c.enqueue(new TextEncoder().encode(next));
              },
            }),
            { status: 400 },
          );
        }
        case "/empty":
          return new Response(null, { status: 204 });
        case "/close":
          return new Response("bye", { headers: { connection: "close" } });
        case "/slow":
          await new Promise((r) => setTimeout(r, 1000));
          return new Response("late");
        default:
          return new Response("no such path", { status: 404 });
      }
    },
  );
  return { server, url: `http://127.0.0.1:${server.addr.port}`, clientPorts };
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum * 31 + b) % 1_000_003;
  return sum;
}

Deno.test("HttpPoster sends bodies of every size over one kept-alive connection", async () => {
  const { server, url, clientPorts } = startServer();
  const poster = new HttpPoster(`${url}/sum`);
  try {
    for (const size of [0, 1, 65_535, 65_536, 1_234_567]) {
      const body = new Uint8Array(size).map((_, i) => (i * 7919) & 255);
      const answer = await poster.post(body, "application/x-ndjson", 10_000);
      assert.deepEqual(answer, {
        status: 201,
        text: `${size} ${checksum(body)} application/x-ndjson`,
      });
    }
    assert.deepEqual(clientPorts.size, 1);
  } finally {
    poster.close();
    await server.shutdown();
  }
});

Deno.test("HttpPoster reads chunked answers and reopens after connection: close", async () => {
  const { server, url, clientPorts } = startServer();
  const chunked = new HttpPoster(`${url}/chunked`);
  const closing = new HttpPoster(`${url}/close`);
  try {
    const answer = await chunked.post(new Uint8Array(3), "text/plain", 10_000);
    assert.deepEqual(answer, { status: 400, text: `héllo wörld ${"x".repeat(100_000)}` });
    // The same connection still works after a chunked answer.
    assert.deepEqual((await chunked.post(new Uint8Array(1), "text/plain", 10_000)).status, 400);
    assert.deepEqual(clientPorts.size, 1);
    assert.deepEqual(await closing.post(new Uint8Array(1), "text/plain", 10_000), {
      status: 200,
      text: "bye",
    });
    assert.deepEqual(await closing.post(new Uint8Array(1), "text/plain", 10_000), {
      status: 200,
      text: "bye",
    });
    assert.deepEqual(clientPorts.size, 3);
  } finally {
    chunked.close();
    closing.close();
    await server.shutdown();
  }
});

Deno.test("HttpPoster reads a 204 answer, which has no body, and posts again on the same connection", async () => {
  const { server, url, clientPorts } = startServer();
  const poster = new HttpPoster(`${url}/empty`);
  try {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await poster.post(new Uint8Array(5), "application/x-protobuf", 2_000), {
        status: 204,
        text: "",
      });
    }
    assert.equal(clientPorts.size, 1);
  } finally {
    poster.close();
    await server.shutdown();
  }
});

Deno.test("HttpPoster gives up after the timeout, and a later post opens a new connection", async () => {
  const { server, url } = startServer();
  const slow = new HttpPoster(`${url}/slow`);
  try {
    await assert.rejects(() => slow.post(new Uint8Array(10), "text/plain", 100), {
      message: "No answer within 100 ms",
    });
    assert.deepEqual(await slow.post(new Uint8Array(10), "text/plain", 5_000), {
      status: 200,
      text: "late",
    });
  } finally {
    slow.close();
    await server.shutdown();
  }
});

Deno.test("HttpPoster names a refused connection and a URL it cannot speak to", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = new HttpPoster(`http://127.0.0.1:${port}/x`);
  await assert.rejects(
    () => refused.post(new Uint8Array(1), "text/plain", 1000),
    Deno.errors.ConnectionRefused,
  );
  assert.throws(() => new HttpPoster("https://example.com/"), {
    name: "TypeError",
    message: "Cannot post to https://example.com/: only http: is spoken",
  });
});
