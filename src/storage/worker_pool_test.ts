import assert from "node:assert/strict";
import { WorkerPool, workersMemory } from "./worker_pool.ts";
import { ISOLATE_GROWTH_BYTES, WORKER_IDLE_MS } from "../idle_memory.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A job of the counting worker: milliseconds to wait, bytes to allocate and keep. */
interface CountingJob {
  ms: number;
  keep: number;
}

/**
 * A worker that serves jobs with the real `serveJobs`, its V8 `gc` replaced by
 * a counter: a job keeps an `ArrayBuffer` of `keep` bytes (the isolate's
 * memory grows by that much), waits `ms`, then answers how many collections
 * ran so far.
 */
async function countingWorker(): Promise<{ url: URL; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "loge-pool-" });
  const path = `${dir}/worker.ts`;
  await Deno.writeTextFile(
    path,
    `import { serveJobs } from ${JSON.stringify(new URL("./worker_pool.ts", import.meta.url).href)};
let collections = 0;
(globalThis as { gc?: () => void }).gc = () => void collections++;
const kept: ArrayBuffer[] = [];
serveJobs(async ({ ms, keep }: { ms: number; keep: number }) => {
  kept.push(new ArrayBuffer(keep));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return collections;
});
`,
  );
  return { url: new URL(`file://${path}`), cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("a worker that grew collects its garbage once it has had no job for a while, not while jobs come", async () => {
  const { url, cleanup } = await countingWorker();
  const pool = new WorkerPool<CountingJob, number>(url, 1);
  const grow = (ms = 0) => pool.run({ ms, keep: ISOLATE_GROWTH_BYTES });
  try {
    assert.equal(await grow(), 0);
    // Jobs a tenth of the idle time apart: the worker is never idle that long.
    for (let i = 0; i < 15; i++) {
      await sleep(WORKER_IDLE_MS / 10);
      assert.equal(await grow(), 0, `job ${i}`);
    }
    // Each job restarts the wait, so look at most a few times, each after a longer pause.
    let collections = 0;
    for (let tries = 0; tries < 5 && collections === 0; tries++) {
      await sleep(WORKER_IDLE_MS * 1.5);
      collections = await grow();
    }
    assert.equal(collections, 1);
    // A job longer than the idle time, right after a short one: nothing is collected under it.
    assert.equal(await grow(), 1);
    assert.equal(await grow(WORKER_IDLE_MS * 1.5), 1, "no collection while a job runs");
    // The job that read the count grew the worker too: the pause after it collects once, however long.
    await sleep(WORKER_IDLE_MS * 3.5);
    assert.equal(await pool.run({ ms: 0, keep: 0 }), 2, "one collection per pause");
    // That job kept nothing: the pause after it has nothing to give back.
    await sleep(WORKER_IDLE_MS * 2.5);
    assert.equal(await pool.run({ ms: 0, keep: 0 }), 2, "no collection without growth");
  } finally {
    pool.terminate();
    await cleanup();
  }
});

Deno.test("each live worker's memory is kept by name, from its last answer, until the pool ends", async () => {
  const { url, cleanup } = await countingWorker();
  const before = new Set(workersMemory().keys());
  const pool = new WorkerPool<CountingJob, number>(url, 2);
  try {
    assert.deepEqual([...workersMemory().keys()].filter((n) => !before.has(n)), []);
    await Promise.all([pool.run({ ms: 0, keep: 0 }), pool.run({ ms: 0, keep: 0 })]);
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

Deno.test("a worker's name is taken again once its pool ends, so names stay few", async () => {
  const { url, cleanup } = await countingWorker();
  const mine = () => [...workersMemory().keys()].filter((n) => n.startsWith("worker#")).sort();
  try {
    for (let pass = 0; pass < 3; pass++) {
      const pool = new WorkerPool<CountingJob, number>(url, 2);
      await Promise.all([pool.run({ ms: 0, keep: 0 }), pool.run({ ms: 0, keep: 0 })]);
      assert.deepEqual(mine(), ["worker#0", "worker#1"], `pass ${pass}`);
      pool.terminate();
      pool.terminate(); // twice: the names it gave back stay free
      assert.deepEqual(mine(), []);
    }
  } finally {
    await cleanup();
  }
});

Deno.test("a terminated pool abandons its running and waiting jobs, and refuses new ones", async () => {
  const { url, cleanup } = await countingWorker();
  try {
    const pool = new WorkerPool<CountingJob, number>(url, 1);
    // A worker terminated while it still loads its module goes on loading it, and fails once the
    // cleanup has removed it: one job first, so that it has.
    await pool.run({ ms: 0, keep: 0 });
    const running = pool.run({ ms: 5000, keep: 0 });
    const waiting = pool.run({ ms: 0, keep: 0 });
    pool.terminate();
    await assert.rejects(running, /worker pool terminated/);
    await assert.rejects(waiting, /worker pool terminated/);
    await assert.rejects(pool.run({ ms: 0, keep: 0 }), /worker pool terminated/);
  } finally {
    await cleanup();
  }
});
