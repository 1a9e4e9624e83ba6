import assert from "node:assert/strict";

// bulk_scan.wasm is committed so that loge runs without a C toolchain; this
// holds it to its source: `deno task build:wasm` into a temporary file must
// give the same bytes (clang 14 of Debian 12, which .ci/run installs).

const ROOT = new URL("../../", import.meta.url).pathname;
const WASM = "src/ingest/bulk_scan.wasm";

Deno.test("bulk_scan.wasm is what `deno task build:wasm` builds from bulk_scan.c", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const command: string = tasks["build:wasm"];
  assert.ok(command.includes(`-o ${WASM}`), command);
  const out = await Deno.makeTempFile({ suffix: ".wasm" });
  try {
    let built: Deno.CommandOutput;
    try {
      built = await new Deno.Command("sh", {
        args: ["-c", command.replace(`-o ${WASM}`, `-o ${out}`)],
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
      await Deno.readFile(`${ROOT}${WASM}`),
      `${WASM} is not built from bulk_scan.c: run deno task build:wasm`,
    );
  } finally {
    await Deno.remove(out);
  }
});
