import assert from "node:assert/strict";
import { join } from "node:path";
import type { ByteSource } from "./byte_source.ts";
import { LOCAL, SourceOpener, UnknownLocationError } from "./opener.ts";

Deno.test("the opener reads local files from the data folder and refuses unknown locations", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(join(dir, "l1-a.loge"), new Uint8Array([1, 2, 3, 4, 5]));
    const opener = new SourceOpener(dir);
    const source = await opener.open({ name: "l1-a.loge", location: LOCAL, bytes: 5 });
    try {
      assert.equal(source.size, 5);
      assert.deepEqual(await source.read(1, 3), new Uint8Array([2, 3, 4]));
      await assert.rejects(() => source.read(3, 4), RangeError);
    } finally {
      await source.close();
    }
    await assert.rejects(
      () => opener.open({ name: "l1-b.loge", location: "s3", bytes: 5 }),
      (error) =>
        error instanceof UnknownLocationError && /l1-b\.loge/.test(error.message) &&
        /"s3"/.test(error.message),
    );
    await assert.rejects(
      () => opener.open({ name: "l1-gone.loge", location: LOCAL }),
      /ENOENT/,
    );
    // A registered reader serves its location.
    const remote: ByteSource = {
      name: "s3://bucket/l1-b.loge",
      size: 5,
      read: (_offset, length) => Promise.resolve(new Uint8Array(length)),
      close: () => Promise.resolve(),
    };
    const tiered = new SourceOpener(dir, {
      s3: (segment) => Promise.resolve({ ...remote, size: segment.bytes! }),
    });
    assert.equal((await tiered.open({ name: "l1-b.loge", location: "s3", bytes: 7 })).size, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
