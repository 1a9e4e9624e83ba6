import assert from "node:assert/strict";
import { join } from "node:path";
import { WideJsonGenerator } from "./generator/wide_json.ts";
import { wideStoragePhase } from "./wide_storage.ts";

Deno.test("wideStoragePhase() stores every wide line in a real server and counts its folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "loge-bench-wide-" });
  const stderr: string[] = [];
  const progress: string[] = [];
  try {
    const lines = 3000;
    const linesFile = join(tmp, "wide.txt");
    const endNs = BigInt(Date.now()) * 1_000_000n;
    const figure = await wideStoragePhase({
      dir: join(tmp, "data"),
      linesFile,
      lines,
      seed: 7,
      endNs,
      serverArgs: ["--compact-interval", "1s", "--compact-min-files", "1"],
      progress: (m) => progress.push(m),
      serverStderr: stderr,
    });
    // The file holds the corpus's lines, as a generator of the same seed makes them.
    const text = await Deno.readTextFile(linesFile);
    const written = text.split("\n");
    assert.equal(written.pop(), "");
    assert.equal(written.length, lines);
    const gen = new WideJsonGenerator({ seed: 7, start: 1n, rate: 1 });
    assert.equal(JSON.parse(written[1234]).trace_id, gen.traceIdAt(1234));
    assert.equal(figure.rawBytes, new TextEncoder().encode(text).length);
    assert.equal(figure.rawBytesPerLine, Math.round((figure.rawBytes / lines) * 100) / 100);
    assert.ok(figure.rawBytesPerLine > 800, String(figure.rawBytesPerLine));
    assert.ok(written[figure.needle.index].includes(figure.needle.traceId));

    // Compacted: no flush file left, and the bytes are those of the folder at rest.
    assert.equal(figure.lines, lines);
    assert.equal(figure.atRest.flushFiles, 0);
    assert.ok(figure.atRest.segments >= 1);
    assert.equal(figure.bytesPerLine, Math.round((figure.atRest.totalBytes / lines) * 100) / 100);
    assert.ok(figure.atRest.totalBytes < figure.rawBytes / 2, JSON.stringify(figure.atRest));
    assert.deepEqual([figure.zstd3, figure.zstd19], [null, null]);
    assert.ok(figure.push.linesPerSec > 0 && figure.compactionSeconds >= 0);
    assert.ok(progress.length >= 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
