import assert from "node:assert/strict";
import { dataDirUsage, fileKind } from "./data_dir.ts";

Deno.test("fileKind() classifies the server's files", () => {
  assert.equal(fileKind("l1-mwqcnrkq-00000000.loge"), "segment");
  assert.equal(fileKind("l0-mwqcnrkq-00000003.loge"), "flush");
  assert.equal(fileKind("catalog.sqlite"), "catalog");
  assert.equal(fileKind("catalog.sqlite-wal"), "catalog");
  assert.equal(fileKind("catalog.sqlite-shm"), "catalog");
  assert.equal(fileKind("wal/00000000000000000001.wal"), "wal");
  assert.equal(fileKind("l1-x.loge.tmp"), "other");
  assert.equal(fileKind("sub/l1-x.loge"), "other");
});

Deno.test("dataDirUsage() adds up every file by kind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/l1-a.loge`, new Uint8Array(1000));
    await Deno.writeFile(`${dir}/l1-b.loge`, new Uint8Array(500));
    await Deno.writeFile(`${dir}/l0-c.loge`, new Uint8Array(70));
    await Deno.writeFile(`${dir}/catalog.sqlite`, new Uint8Array(4096));
    await Deno.writeFile(`${dir}/catalog.sqlite-wal`, new Uint8Array(100));
    await Deno.mkdir(`${dir}/wal`);
    await Deno.writeFile(`${dir}/wal/1.wal`, new Uint8Array(30));
    await Deno.writeFile(`${dir}/README`, new Uint8Array(3));
    assert.deepEqual(await dataDirUsage(dir), {
      totalBytes: 5799,
      files: 7,
      segmentBytes: 1500,
      segments: 2,
      flushBytes: 70,
      flushFiles: 1,
      catalogBytes: 4196,
      walBytes: 30,
      otherBytes: 3,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dataDirUsage() of a folder that does not exist is empty", async () => {
  const usage = await dataDirUsage("/nonexistent/loge-bench");
  assert.equal(usage.totalBytes, 0);
  assert.equal(usage.files, 0);
});
