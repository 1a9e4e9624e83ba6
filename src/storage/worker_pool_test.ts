import assert from "node:assert/strict";
import { WorkerPool, workersMemory } from "./worker_pool.ts";
import { WORKER_IDLE_MS } from "../idle_memory.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A worker that serves jobs with the real `serveJobs`, its V8 `gc` replaced by
 * a counter: each job answers how many collections ran so far.
 */
async function countingWorker(): Promise<{ url: URL; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "loge-pool-" });
  const path = `${dir}/worker.ts`;
  await Deno.writeTextFile(
    path,
    `import { serveJobs } from ${JSON.stringify(new URL("./worker_pool.ts", import.meta.url).href)};
let collections = 0;
(globalThis as { gc?: () => void }).gc = () => void collections++;
serveJobs(() => collections);
`,
  );
  return { url: new URL(`file://${path}`), cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("a worker collects its garbage once it has had no job for a while, not while jobs come", async () => {
  const { url, cleanup } = await countingWorker();
  const pool = new WorkerPool<null, number>(url, 1);
  try {
    assert.equal(await pool.run(null), 0);
    // Jobs a tenth of the idle time apart: the worker is never idle that long.
    for (let i = 0; i < 15; i++) {
      await sleep(WORKER_IDLE_MS / 10);
      assert.equal(await pool.run(null), 0, `job ${i}`);
    }
    // Each job restarts the wait, so look at most a few times, each after a longer pause.
    let collections = 0;
    for (let tries = 0; tries < 5 && collections === 0; tries++) {
      await sleep(WORKER_IDLE_MS * 1.5);
      collections = await pool.run(null);
    }
    assert.equal(collections, 1);
    // The job that read the count is a job too: the pause after it collects once, however long.
    await sleep(WORKER_IDLE_MS * 3.5);
    assert.equal(await pool.run(null), 2, "one collection per pause");
  } finally {
    pool.terminate();
    await cleanup();
  }
});

Deno.test("each live worker's memory is kept by name, from its last answer, until the pool ends", async () => {
  const { url, cleanup } = await countingWorker();
  const before = new Set(workersMemory().keys());
  const pool = new WorkerPool<null, number>(url, 2);
  try {
    assert.deepEqual([...workersMemory().keys()].filter((n) => !before.has(n)), []);
    await Promise.all([pool.run(null), pool.run(null)]);
    const mine = [...workersMemory()].filter(([name]) => !before.has(name));
    // Named by the module's file and the order in which the process started its workers.
    assert.deepEqual(mine.map(([name]) => name.replace(/\d+$/, "N")), ["worker#N", "worker#N"]);
    for (const [name, m] of mine) {
      assert.ok(m.heapUsed > 0 && m.heapUsed <= m.heapTotal && m.external >= 0, name);
    }
  } finally {
    pool.terminate();
    await cleanup();
  }
  assert.deepEqual([...workersMemory().keys()].filter((n) => !before.has(n)), []);
});
