import assert from "node:assert/strict";
import { parseProcStatus, readProcMemory, RssSampler } from "./proc_status.ts";

const STATUS = `Name:\tdeno
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
VmPeak:\t20256272 kB
VmSize:\t20256272 kB
VmHWM:\t  229420 kB
VmRSS:\t  129208 kB
RssAnon:\t   80000 kB
Threads:\t12
`;

Deno.test("parseProcStatus() reads VmRSS and VmHWM in KiB", () => {
  assert.deepEqual(parseProcStatus(STATUS), { rssKiB: 129208, hwmKiB: 229420 });
});

Deno.test("parseProcStatus() names the missing line", () => {
  assert.throws(
    () => parseProcStatus("Name:\tdeno\nVmHWM:\t1 kB\n"),
    /Cannot parse \/proc status: no "VmRSS: <n> kB" line/,
  );
  assert.throws(() => parseProcStatus("VmRSS:\t1 MB\nVmHWM:\t1 kB\n"), /VmRSS/);
});

Deno.test({
  name: "readProcMemory() reads this process, and undefined for no process",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const mem = await readProcMemory(Deno.pid);
    assert.ok(mem !== undefined && mem.rssKiB > 0 && mem.hwmKiB >= mem.rssKiB);
    assert.equal(await readProcMemory(2 ** 30), undefined);
  },
});

Deno.test({
  name: "RssSampler keeps the peak of a phase and resets it for the next",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const sampler = new RssSampler(Deno.pid, 5);
    sampler.start();
    assert.throws(() => sampler.start(), /already sampling/);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const first = await sampler.stop();
    assert.ok(first.peakKiB > 0);
    assert.ok(first.samples >= 2);
    await assert.rejects(() => sampler.stop(), /not sampling/);
    sampler.start();
    const second = await sampler.stop();
    assert.ok(second.samples >= 1 && second.samples < first.samples);
    assert.equal(first.parts, undefined); // not asked for
  },
});

Deno.test({
  name: "RssSampler asked for parts reads where the memory is at the peak",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const sampler = new RssSampler(Deno.pid, 5, { parts: true });
    sampler.start();
    // 64 MiB touched during the phase: the peak rises by more than 1%, and the parts follow.
    const grown = new Uint8Array(64 * 1024 * 1024).fill(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { peakKiB, parts } = await sampler.stop();
    assert.equal(grown[grown.length - 1], 1);
    assert.ok(parts !== undefined);
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    assert.ok(total > peakKiB * 0.95 && total < peakKiB * 1.05, `${total} KiB of ${peakKiB}`);
  },
});

Deno.test({
  name: "RssSampler fails when the process is gone from the start",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const sampler = new RssSampler(2 ** 30, 5);
    sampler.start();
    await assert.rejects(() => sampler.stop(), /exited before the first sample/);
  },
});
