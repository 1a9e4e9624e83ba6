import assert from "node:assert/strict";
import { cpuBetween, parseTaskStat, readThreadCpu, threadGroup } from "./thread_cpu.ts";

Deno.test("parseTaskStat() reads a name with spaces and parentheses, and user plus system time", () => {
  const line = "7 (a) (b c)) S 1 7 7 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 1 0 5 6 7";
  assert.deepEqual(parseTaskStat(line), { name: "a) (b c)", seconds: 3 });
  assert.throws(() => parseTaskStat("not a stat line"), /Cannot read a \/proc stat line/);
  assert.throws(() => parseTaskStat("7 (x) S 1"), /Cannot read a \/proc stat line/);
});

Deno.test("threadGroup() tells a server's threads apart by the names Deno, V8 and tokio give", () => {
  assert.equal(threadGroup("deno", true), "event loop");
  assert.equal(threadGroup("worker-0", false), "workers");
  assert.equal(threadGroup("worker-12", false), "workers");
  assert.equal(threadGroup("V8 DefaultWorke", false), "V8 helpers");
  assert.equal(threadGroup("tokio-runtime-w", false), "file I/O");
  assert.equal(threadGroup("deno", false), "other");
  assert.equal(threadGroup("workerish", false), "other");
});

/**
 * Keeps the calling thread busy until it took `ms` of CPU (its own user and system time, in
 * ticks of 10 ms): spinning for a stretch of wall time takes less CPU when other tests share the
 * cores.
 */
const SPIN = `
const cpuMs = () => {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const spin = (ms) => { const end = cpuMs() + ms; while (cpuMs() < end) {} };
`;

/** A `deno eval` that waits for a line, spins its event loop 300 ms of CPU and then a worker 500, says so, and waits again. */
const CHILD = `${SPIN}
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
console.log("ready");
await lines.read();
spin(300);
const worker = new Worker(
  "data:application/javascript," + encodeURIComponent(${
  JSON.stringify(SPIN)
} + "spin(500); postMessage(1);"),
  { type: "module" },
);
await new Promise((resolve) => worker.onmessage = resolve);
worker.terminate();
console.log("done");
await lines.read();
`;

Deno.test("cpuBetween() counts a process's busy event loop, and a worker that ended", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", CHILD],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stdin = child.stdin.getWriter();
  try {
    assert.equal((await out.read()).value?.trim(), "ready");
    const before = await readThreadCpu(child.pid);
    assert.equal(before.threads.get(String(child.pid))?.group, "event loop");
    await stdin.write(new TextEncoder().encode("go\n"));
    assert.equal((await out.read()).value?.trim(), "done");
    // The worker's thread is gone once the runtime has joined it.
    let after = await readThreadCpu(child.pid);
    for (let i = 0; i < 50 && [...after.threads.values()].some((t) => t.group === "workers"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await readThreadCpu(child.pid);
    }
    const spent = cpuBetween(before, after);
    // Times are whole ticks of 10 ms, each thread's and the process's rounded apart: a tick off
    // for one thread, and up to one for each of the others where ended threads are the rest.
    assert.ok(spent["event loop"] >= 0.29, `event loop: ${spent["event loop"]} s`);
    assert.ok(spent["ended threads"] >= 0.35, `ended threads: ${spent["ended threads"]} s`);
    assert.equal(spent.workers, 0);
  } finally {
    await stdin.close();
    await out.cancel();
    await child.status;
  }
});
