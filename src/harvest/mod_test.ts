import assert from "node:assert/strict";
import { listenStream } from "./mod.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("listenStream(): the stop resolves once every message read has gone to take, and none goes after", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/harvest.sock`;
    const taken: string[] = [];
    // A take that waits, as one does while a full batch is stored.
    const take = async (message: string) => {
      taken.push(message);
      await sleep(5);
    };
    const stop = listenStream("unix", path, take, false, { malformed() {}, refused() {} });
    const conn = await Deno.connect({ transport: "unix", path });
    const sent = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    // One write of 800 bytes: one chunk, read whole before the first message is taken.
    await conn.write(new TextEncoder().encode(sent.map((l) => `${l}\n`).join("")));
    while (taken.length === 0) await sleep(1);
    await stop();
    const atStop = [...taken];
    await sleep(200);
    conn.close();
    assert.deepEqual(atStop, sent);
    assert.deepEqual(taken, atStop);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
