import assert from "node:assert/strict";

// The .wasm files are committed so that loge runs without a C toolchain; this
// holds each to its source: every command of `deno task build:wasm`, writing
// into a temporary file, must give the committed bytes (clang 14 of Debian 12,
// which .ci/run installs).

const ROOT = new URL("../", import.meta.url).pathname;

/** The build's commands, each with the .wasm it writes. */
async function wasmBuilds(): Promise<{ command: string; wasm: string }[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  return (tasks["build:wasm"] as string).split(" && ").map((command) => {
    const wasm = / -o (\S+\.wasm) /.exec(command)?.[1];
    assert.ok(wasm, `no -o <file>.wasm in: ${command}`);
    return { command, wasm };
  });
}

Deno.test("deno task build:wasm builds bulk_scan.wasm, line_coding.wasm, content_filter.wasm and line_search.wasm", async () => {
  assert.deepEqual((await wasmBuilds()).map((b) => b.wasm), [
    "src/ingest/bulk_scan.wasm",
    "src/storage/line_coding.wasm",
    "src/storage/content_filter.wasm",
    "src/query/line_search.wasm",
  ]);
});

for (const { command, wasm } of await wasmBuilds()) {
  Deno.test(`${wasm} is what \`deno task build:wasm\` builds from its C source`, async () => {
    const out = await Deno.makeTempFile({ suffix: ".wasm" });
    try {
      let built: Deno.CommandOutput;
      try {
        built = await new Deno.Command("sh", {
          args: ["-c", command.replace(` -o ${wasm} `, ` -o ${out} `)],
          cwd: ROOT,
        }).output();
      } catch (error) {
        throw new Error(`cannot run the build (install clang and lld): ${error}`);
      }
      assert.equal(
        built.code,
        0,
        `deno task build:wasm failed (clang and lld installed?):\n${
          new TextDecoder().decode(built.stderr)
        }`,
      );
      assert.deepEqual(
        await Deno.readFile(out),
        await Deno.readFile(`${ROOT}${wasm}`),
        `${wasm} is not built from its C source: run deno task build:wasm`,
      );
    } finally {
      await Deno.remove(out);
    }
  });
}
