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
    // A process of its own: the test runner's memory moves with the tests running beside this one.
    // It touches 64 MiB a moment after it starts, so the peak rises by far more than 1%, and the
    // parts follow; then it holds them until its stdin closes.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "await new Promise((r) => setTimeout(r, 200)); const a = new Uint8Array(64 << 20).fill(1);" +
        " console.log(a[7]); for await (const _ of Deno.stdin.readable);",
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const sampler = new RssSampler(child.pid, 5, { parts: true });
    sampler.start();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value?.trim(), "1"); // it holds the 64 MiB now
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { peakKiB, parts } = await sampler.stop();
    await child.stdin.close();
    await reader.cancel();
    await child.status;
    assert.ok(peakKiB > 64 * 1024, `peak ${peakKiB} KiB`);
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
