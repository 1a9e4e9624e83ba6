/**
 * S3Store against a real S3 server (s3rver, via testing/s3.ts): single and multipart uploads,
 * ranged reads, listing pages, presigned and unsigned reads, an outage and its recovery, and the
 * counting proxy. The SDK finds s3rver's credentials in the environment, as it would in production.
 */
import assert from "node:assert/strict";
import { type S3Server, startCountingProxy, startS3 } from "../../testing/s3.ts";
import { ObjectStoreError } from "./object_store.ts";
import { S3Store, type S3StoreOptions } from "./s3_store.ts";

const MIB = 1024 * 1024;

/** Bytes whose value depends on the position, so a shifted read shows. */
function pattern(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8) * 7 + seed) & 0xff;
  return bytes;
}

/** Runs `fn` with a fresh s3rver, its credentials in the environment. */
async function withS3(fn: (s3: S3Server, dir: string) => Promise<void>): Promise<void> {
  await using s3 = await startS3();
  for (const [name, value] of Object.entries(s3.env)) Deno.env.set(name, value);
  const dir = await Deno.makeTempDir({ prefix: "loge-s3-test-" });
  try {
    await fn(s3, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function store(s3: S3Server, options: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    ...options,
  });
}

async function writeFile(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}

Deno.test("S3Store: small and multipart uploads read back byte-exact", async () => {
  await withS3(async (s3, dir) => {
    using s = store(s3, { partSize: 5 * MIB });
    assert.equal(s.name, `s3://${s3.bucket}`);
    const small = pattern(1000);
    await s.put("a/small", await writeFile(dir, "small", small), small.length);
    assert.deepEqual(await s.get("a/small", 0, small.length), small);

    const large = pattern(12 * MIB, 5);
    await s.put("a/large", await writeFile(dir, "large", large), large.length);
    assert.equal(await s.head("a/large"), large.length);
    const whole = await s.get("a/large", 0, large.length);
    assert.ok(whole.length === large.length && whole.every((b, i) => b === large[i]));

    const empty = new Uint8Array(0);
    await s.put("a/empty", await writeFile(dir, "empty", empty), 0);
    assert.equal(await s.head("a/empty"), 0);
  });
});

Deno.test("S3Store: put of a file whose size is not the one given fails", async () => {
  await withS3(async (s3, dir) => {
    using s = store(s3);
    const path = await writeFile(dir, "f", pattern(100));
    await assert.rejects(
      s.put("k", path, 99),
      (e) =>
        e instanceof ObjectStoreError &&
        e.message === `Cannot put s3://${s3.bucket}/k from ${path}: the file has 100 bytes, not 99`,
    );
    await assert.rejects(s.put("k", `${dir}/missing`, 1), ObjectStoreError);
    assert.equal(await s.head("k"), undefined);
  });
});

Deno.test("S3Store: head, ranged get, list with paging, delete", async () => {
  await withS3(async (s3, dir) => {
    await using proxy = startCountingProxy(s3.endpoint);
    using s = store(s3, { endpoint: proxy.url, listPageSize: 2 });
    const bytes = pattern(4096, 3);
    const path = await writeFile(dir, "obj", bytes);
    const keys = ["p/n1/a", "p/n1/b", "p/n2/c", "p/n2/d", "p/n3/e", "q/x"];
    for (const key of keys) await s.put(key, path, bytes.length);

    assert.equal(await s.head("p/n1/a"), 4096);
    assert.equal(await s.head("p/n1/zzz"), undefined);

    assert.deepEqual(await s.get("p/n1/a", 0, 10), bytes.subarray(0, 10));
    assert.deepEqual(await s.get("p/n1/a", 1000, 333), bytes.subarray(1000, 1333));
    assert.deepEqual(await s.get("p/n1/a", 4086, 10), bytes.subarray(4086));
    assert.deepEqual(await s.get("p/n1/a", 4095, 1), bytes.subarray(4095));
    assert.deepEqual(await s.get("p/n1/a", 5, 0), new Uint8Array(0));
    await assert.rejects(
      s.get("p/n1/a", 4090, 10),
      (e) => e instanceof ObjectStoreError && /received 6 bytes, expected 10/.test(e.message),
    );

    proxy.reset();
    const listed = await s.list("p/");
    assert.deepEqual(listed, keys.slice(0, 5).map((key) => ({ key, size: 4096 })));
    assert.equal(proxy.counts().gets, 3, "5 keys in pages of 2");
    assert.deepEqual((await s.list("p/n2/")).map((o) => o.key), ["p/n2/c", "p/n2/d"]);
    assert.deepEqual(await s.list("none/"), []);

    await s.delete("p/n1/a");
    await s.delete("p/n1/a");
    assert.equal(await s.head("p/n1/a"), undefined);
    assert.equal((await s.list("")).length, keys.length - 1);
  });
});

Deno.test("S3Store: get of a missing key names the operation, object and cause", async () => {
  await withS3(async (s3) => {
    using s = store(s3);
    await assert.rejects(s.get("no/such/key", 10, 10), (e) => {
      assert.ok(e instanceof ObjectStoreError);
      assert.match(
        e.message,
        new RegExp(
          `^Cannot get s3://${s3.bucket}/no/such/key bytes=10-19: NoSuchKey \\(HTTP 404\\)`,
        ),
      );
      return true;
    });
  });
});

Deno.test("S3Store: presigned URLs serve ranged reads to a plain fetch", async () => {
  await withS3(async (s3, dir) => {
    using s = store(s3);
    const bytes = pattern(100, 9);
    await s.put("dir/obj name", await writeFile(dir, "obj", bytes), bytes.length);
    const url = new URL(await s.presign("dir/obj name", 300));
    assert.equal(url.searchParams.get("X-Amz-Expires"), "300");
    // Only the host is signed, so any Range goes (s3rver does not check signatures).
    assert.equal(url.searchParams.get("X-Amz-SignedHeaders"), "host");
    const res = await fetch(url, { headers: { Range: "bytes=10-19" } });
    assert.equal(res.status, 206);
    assert.deepEqual(await res.bytes(), bytes.subarray(10, 20));
  });
});

Deno.test("S3Store: readUrlBase reads with unsigned range GETs", async () => {
  await withS3(async (s3, dir) => {
    using writer = store(s3, { acl: "public-read" });
    const bytes = pattern(5000, 1);
    await writer.put("p/seg 1", await writeFile(dir, "obj", bytes), bytes.length);
    using reader = store(s3, { readUrlBase: `${s3.endpoint}/${s3.bucket}/` });
    assert.deepEqual(await reader.get("p/seg 1", 0, 100), bytes.subarray(0, 100));
    assert.deepEqual(await reader.get("p/seg 1", 2500, 1000), bytes.subarray(2500, 3500));
    assert.deepEqual(await reader.get("p/seg 1", 4990, 10), bytes.subarray(4990));
    await assert.rejects(
      reader.get("p/missing", 0, 10),
      (e) =>
        e instanceof ObjectStoreError &&
        e.message.startsWith(`Cannot get s3://${s3.bucket}/p/missing bytes=0-9: HTTP 404`),
    );
  });
});

Deno.test("S3Store: a stopped server fails every operation quickly; a restart recovers", async () => {
  await withS3(async (s3, dir) => {
    using s = store(s3);
    using unsigned = store(s3, { readUrlBase: `${s3.endpoint}/${s3.bucket}/` });
    const bytes = pattern(6 * MIB, 2);
    const path = await writeFile(dir, "obj", bytes);
    const small = await writeFile(dir, "small", bytes.subarray(0, 100));
    await s.put("k", small, 100);

    await s3.stop();
    const started = performance.now();
    const failures = await Promise.allSettled([
      s.put("k2", small, 100),
      s.put("big", path, bytes.length),
      s.head("k"),
      s.list(""),
      s.get("k", 0, 10),
      unsigned.get("k", 0, 10),
      s.delete("k"),
    ]);
    for (const result of failures) {
      assert.equal(result.status, "rejected");
      assert.ok(result.reason instanceof ObjectStoreError, String(result.reason));
      assert.ok(result.reason.message.startsWith("Cannot "), result.reason.message);
      assert.ok(result.reason.message.includes(`s3://${s3.bucket}/`), result.reason.message);
    }
    assert.ok(performance.now() - started < 20_000, "an outage must fail calls within seconds");

    await s3.restart();
    assert.equal(await s.head("k"), 100);
    assert.deepEqual(await s.get("k", 0, 10), bytes.subarray(0, 10));
    assert.deepEqual(await unsigned.get("k", 90, 10), bytes.subarray(90, 100));
    await s.put("big", path, bytes.length);
    assert.deepEqual(await s.get("big", 6 * MIB - 10, 10), bytes.subarray(6 * MIB - 10));
  });
});

Deno.test("S3Store: a failed multipart upload is aborted", async () => {
  await withS3(async (s3, dir) => {
    const seen: string[] = [];
    // s3rver has no AbortMultipartUpload (it answers 405): answer it as S3 does, until told not to.
    let answerAbort = true;
    await using proxy = startCountingProxy(s3.endpoint, {
      intercept(req) {
        const query = new URL(req.url).searchParams;
        seen.push(`${req.method} ${query.get("partNumber") ?? ""}`.trim());
        if (query.get("partNumber") === "2") {
          return new Response("<Error><Code>InternalError</Code></Error>", { status: 500 });
        }
        if (req.method === "DELETE" && query.has("uploadId") && answerAbort) {
          return new Response(null, { status: 204 });
        }
        return undefined;
      },
    });
    using s = store(s3, { endpoint: proxy.url, partSize: 5 * MIB });
    const path = await writeFile(dir, "big", pattern(11 * MIB));
    const failed = `Cannot put s3://${s3.bucket}/big from ${path} (part 2): ` +
      "InternalError (HTTP 500): UnknownError (3 attempts)";
    await assert.rejects(
      s.put("big", path, 11 * MIB),
      (e) => e instanceof ObjectStoreError && e.message === failed,
    );
    // Create, part 1, three tries of part 2, abort.
    assert.deepEqual(seen, ["POST", "PUT 1", "PUT 2", "PUT 2", "PUT 2", "DELETE"]);
    assert.equal(await s.head("big"), undefined);

    answerAbort = false;
    await assert.rejects(
      s.put("big", path, 11 * MIB),
      (e) =>
        e instanceof ObjectStoreError &&
        e.message.startsWith(`${failed}; then: Cannot abort multipart upload `) &&
        e.message.endsWith(
          `of s3://${s3.bucket}/big: MethodNotAllowed (HTTP 405): ` +
            "The specified method is not allowed against this resource.",
        ),
    );
  });
});

Deno.test("counting proxy: counts the GETs and bytes of reads through it", async () => {
  await withS3(async (s3, dir) => {
    await using proxy = startCountingProxy(s3.endpoint);
    using s = store(s3, { endpoint: proxy.url });
    const bytes = pattern(10_000, 4);
    await s.put("k", await writeFile(dir, "obj", bytes), bytes.length);
    assert.deepEqual(proxy.counts(), { gets: 0, bytes: 0, requests: 1 });

    proxy.reset();
    assert.equal(await s.head("k"), 10_000);
    assert.deepEqual(proxy.counts(), { gets: 0, bytes: 0, requests: 1 });

    proxy.reset();
    assert.deepEqual(await s.get("k", 100, 1000), bytes.subarray(100, 1100));
    assert.deepEqual(await s.get("k", 9000, 1000), bytes.subarray(9000));
    assert.deepEqual(proxy.counts(), { gets: 2, bytes: 2000, requests: 2 });

    using unsigned = store(s3, { readUrlBase: `${proxy.url}/${s3.bucket}/` });
    proxy.reset();
    assert.deepEqual(await unsigned.get("k", 0, 4096), bytes.subarray(0, 4096));
    assert.deepEqual(proxy.counts(), { gets: 1, bytes: 4096, requests: 1 });
  });
});
