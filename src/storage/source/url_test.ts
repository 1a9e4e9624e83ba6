/**
 * URL byte sources against a real HTTP server (Deno.serve on a free port)
 * whose answers each test chooses.
 */
import assert from "node:assert/strict";
import { SourceUnavailableError } from "./byte_source.ts";
import { openUrlSource } from "./url.ts";

const BYTES = new TextEncoder().encode("0123456789abcdefghijklmnopqrstuvwxyz");

/** Serves `answer(req, n)` (n counts requests from 1); records each request's Range header. */
async function withServer(
  answer: (req: Request, n: number) => Response | Promise<Response>,
  fn: (url: string, ranges: (string | null)[]) => Promise<void>,
) {
  const ranges: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    ranges.push(req.headers.get("range"));
    return answer(req, ranges.length);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/seg?X-Amz-Signature=secret`, ranges);
  } finally {
    await server.shutdown();
  }
}

/** A 206 answer with the bytes of an explicit `bytes=a-b` range. */
function ranged(req: Request): Response {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
  if (!m) return new Response("range required", { status: 416 });
  return new Response(BYTES.slice(Number(m[1]), Number(m[2]) + 1), { status: 206 });
}

async function unavailable(read: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(read, (error: unknown) => {
    assert.ok(error instanceof SourceUnavailableError, String(error));
    assert.match(error.message, message);
    assert.ok(!error.message.includes("secret"), "the URL's signature is never shown");
    return true;
  });
}

Deno.test("reads are explicit byte ranges, checked against the size", () =>
  withServer(ranged, async (url, ranges) => {
    const source = openUrlSource(url, BYTES.length, "segment a");
    assert.equal(source.name, "segment a");
    assert.equal(source.size, 36);
    const dec = new TextDecoder();
    assert.equal(dec.decode(await source.read(0, 4)), "0123");
    assert.equal(dec.decode(await source.read(30, 6)), "uvwxyz");
    assert.equal((await source.read(5, 0)).length, 0);
    assert.deepEqual(ranges, ["bytes=0-3", "bytes=30-35"]);
    await assert.rejects(source.read(33, 4), /read of 4 bytes at 33 is outside 36 bytes/);
    await assert.rejects(source.read(-1, 2), RangeError);
    await source.close();
  }));

Deno.test("refusals, ignored ranges and short bodies make the source unavailable, URL unshown", async () => {
  await withServer(
    () => new Response("<Error>Request has expired</Error>", { status: 403 }),
    (url) =>
      unavailable(
        openUrlSource(url, 36, "segment a").read(0, 4),
        /^cannot read segment a \(bytes=0-3\): HTTP 403 Forbidden: <Error>Request has expired<\/Error> \(a presigned URL may have expired\)$/,
      ),
  );
  await withServer(
    () => new Response(BYTES),
    (url) =>
      unavailable(
        openUrlSource(url, 36, "segment a").read(4, 4),
        /the server ignored the Range header \(HTTP 200\)$/,
      ),
  );
  await withServer(
    () => new Response(BYTES.slice(0, 2), { status: 206 }),
    (url) =>
      unavailable(
        openUrlSource(url, 36, "segment a").read(0, 4),
        /received 2 bytes, expected 4$/,
      ),
  );
});

Deno.test("5xx answers are tried again, up to the attempts", async () => {
  await withServer(
    (req, n) => n < 3 ? new Response("slow down", { status: 503 }) : ranged(req),
    async (url, ranges) => {
      const source = openUrlSource(url, 36, "segment a");
      assert.equal(new TextDecoder().decode(await source.read(10, 3)), "abc");
      assert.deepEqual(ranges, ["bytes=10-12", "bytes=10-12", "bytes=10-12"]);
    },
  );
  await withServer(
    () => new Response("down", { status: 500 }),
    async (url, ranges) => {
      await unavailable(
        openUrlSource(url, 36, "segment a", { attempts: 2 }).read(0, 1),
        /HTTP 500 Internal Server Error: down \(after 2 tries\)$/,
      );
      assert.equal(ranges.length, 2);
    },
  );
});

Deno.test("a read past its deadline, or with nothing listening, is unavailable", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await withServer(
    async (req) => {
      await released;
      return ranged(req);
    },
    async (url) => {
      await unavailable(
        openUrlSource(url, 36, "segment a", { deadlineMs: 200 }).read(0, 4),
        /^cannot read segment a \(bytes=0-3\): not done within 0.2 s$/,
      );
      release();
    },
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await unavailable(
    openUrlSource(`http://127.0.0.1:${port}/x?X-Amz-Signature=secret`, 36, "segment b", {
      attempts: 1,
    }).read(0, 4),
    /^cannot read segment b \(bytes=0-3\): /,
  );
});
