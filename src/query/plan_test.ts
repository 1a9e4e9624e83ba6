import assert from "node:assert/strict";
import { logQuery } from "../../testing/log_query.ts";
import { writeOneLine } from "../../testing/segments.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import type { ByteSource } from "../storage/source/byte_source.ts";
import { openLocalSource, SourceOpener } from "../storage/source/opener.ts";
import { planSegments } from "./plan.ts";

const FAR = "far";

Deno.test("a file that opens after its plan failed is released, not left open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeOneLine(dir, "l1-late.loge");
    // A remote reader: the first file fails at once, the second opens a little later.
    const { promise: lateOpened, resolve: opened } = Promise.withResolvers<void>();
    let lateClosed = false;
    const reader = async (segment: { name: string }): Promise<ByteSource> => {
      if (segment.name === "l1-broken.loge") throw new Error("reader failed");
      await new Promise((resolve) => setTimeout(resolve, 30));
      const source = await openLocalSource(dir, segment.name);
      opened();
      return {
        ...source,
        close: () => {
          lateClosed = true;
          return source.close();
        },
      };
    };
    const cache = new SegmentCache(new SourceOpener(dir, { [FAR]: reader }));
    const segments = ["l1-broken.loge", "l1-late.loge"].map((name) => ({
      name,
      location: FAR,
      bytes: 0,
    }));
    await assert.rejects(
      planSegments({ cache, concurrency: 2 }, logQuery('{app="web"}'), segments),
      /reader failed/,
    );
    await lateOpened;
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Closing the cache closes what nobody holds: the late file, once its plan let it go.
    await cache.close();
    assert.equal(lateClosed, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
