import assert from "node:assert/strict";
import {
  displayCommand,
  findTool,
  INSTALL_HINT,
  MIN_BASELINE_RUNS,
  missing,
  runOnce,
  shellQuote,
  timeBaseline,
} from "./baselines.ts";

Deno.test("missing() says how to install the tool", () => {
  assert.deepEqual(missing("rg"), { missing: `rg missing (${INSTALL_HINT})` });
  assert.equal(INSTALL_HINT, "apt-get install -y ripgrep zstd");
});

Deno.test("findTool() finds sh and reports a tool that does not exist as missing", async () => {
  const sh = await findTool("sh");
  assert.ok("path" in sh && sh.path.endsWith("/sh"));
  assert.deepEqual(
    await findTool("no-such-tool-loge-bench"),
    missing("no-such-tool-loge-bench"),
  );
});

Deno.test("shellQuote() leaves plain words and quotes the rest", () => {
  assert.equal(shellQuote("-F"), "-F");
  assert.equal(shellQuote("/tmp/x/lines.txt"), "/tmp/x/lines.txt");
  assert.equal(shellQuote(`"app":"web"`), `'"app":"web"'`);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(""), "''");
});

Deno.test("displayCommand() joins a pipeline and strips the folder", () => {
  assert.equal(
    displayCommand([["zstd", "-dc", "/tmp/b/lines.txt.zst"], ["rg", "-F", "a b"]], "/tmp/b"),
    "zstd -dc lines.txt.zst | rg -F 'a b'",
  );
  assert.equal(
    displayCommand(["grep", "-F", "x", "/tmp/b/lines.txt"]),
    "grep -F x /tmp/b/lines.txt",
  );
});

Deno.test("runOnce() counts output lines and accepts exit code 1 (no match)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/lines.txt`;
    await Deno.writeTextFile(file, "a timeout\nok\nb timeout\n");
    const two = await runOnce(["grep", "-F", "timeout", file]);
    assert.equal(two.lines, 2);
    assert.ok(two.ms > 0);
    assert.equal((await runOnce(["grep", "-F", "absent", file])).lines, 0);
    assert.equal((await runOnce([["cat", file], ["grep", "-F", "-m", "1", "timeout"]])).lines, 1);
    await assert.rejects(
      () => runOnce(["grep", "-F", "x", `${dir}/nope.txt`]),
      /Baseline "grep -F x .*nope.txt" failed with exit code 2/,
    );
    const timed = await timeBaseline(["grep", "-F", "timeout", file], 3, 1, dir);
    assert.equal(timed.command, "grep -F timeout lines.txt");
    assert.equal(timed.hits, 2);
    assert.equal(timed.ms.runs, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("timeBaseline() stops once its timed runs took the budget, after MIN_BASELINE_RUNS", async () => {
  const sleep = ["sleep", "0.1"];
  // A budget spent by the first run: the least runs, or fewer when fewer are asked for.
  assert.equal((await timeBaseline(sleep, 20, 0, "", 0)).ms.runs, MIN_BASELINE_RUNS);
  assert.equal((await timeBaseline(sleep, 2, 0, "", 0)).ms.runs, 2);
  // A budget the runs never reach: every run asked for.
  assert.equal((await timeBaseline(sleep, 4, 0, "", 60_000)).ms.runs, 4);
  // In between: the runs before the last took less than the budget, all of them at least it.
  const { ms } = await timeBaseline(sleep, 20, 1, "", 1_000);
  assert.ok(ms.runs > MIN_BASELINE_RUNS && ms.runs < 20, `${ms.runs} runs`);
  assert.ok((ms.runs - 1) * ms.min < 1_000, `${ms.runs} runs of at least ${ms.min} ms`);
  assert.ok(ms.runs * ms.max >= 1_000, `${ms.runs} runs of at most ${ms.max} ms`);
});
