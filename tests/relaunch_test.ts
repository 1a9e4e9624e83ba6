/**
 * `deno run -A main.ts serve`, as users start it, runs the server with its V8
 * flags (src/cli/runtime.ts): the process starts the server again under
 * `DENO_V8_FLAGS`, forwards signals to it, exits with its code, and the server
 * dies with it.
 */
import assert from "node:assert/strict";
import { V8_FLAGS } from "../src/cli/runtime.ts";
import { MAIN } from "../testing/cli.ts";

/** Pids of the children of `pid` (Linux). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`).catch(() => "");
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The environment of process `pid`, as it was started. */
async function environOf(pid: number): Promise<Map<string, string>> {
  const raw = await Deno.readTextFile(`/proc/${pid}/environ`);
  return new Map(
    raw.split("\0").filter(Boolean).map((kv) => {
      const at = kv.indexOf("=");
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
}

const alive = (pid: number) => Deno.stat(`/proc/${pid}`).then(() => true, () => false);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `deno run -A main.ts serve` without DENO_V8_FLAGS; resolves once it listens. */
async function start(dir: string) {
  const env = { ...Deno.env.toObject() };
  delete env.DENO_V8_FLAGS;
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--port", "0", "--output-path", dir],
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`exited before listening: ${out}`);
    out += value;
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1];
  const rest = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  const err = new Response(process.stderr).text();
  const [server] = await childrenOf(process.pid);
  assert.ok(server, "no server process under the one started");
  return { process, url, server, output: async () => (await rest, await err) };
}

Deno.test("deno run -A main.ts serve: the server runs under its V8 flags, SIGTERM stops both cleanly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-relaunch-" });
  try {
    const { process, url, server, output } = await start(dir);
    const env = await environOf(server);
    assert.equal(env.get("DENO_V8_FLAGS"), V8_FLAGS.join(","));
    assert.equal(env.get("LOGE_PARENT_PID"), String(process.pid));
    const res = await fetch(`${url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ streams: [{ stream: { app: "a" }, values: [["1", "kept"]] }] }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    process.kill("SIGTERM");
    const status = await process.status;
    const stderr = await output();
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /loge: stopped/);
    assert.equal(await alive(server), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno run -A main.ts serve: a SIGINT that reaches both processes shuts down cleanly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-relaunch-" });
  try {
    const { process, server, output } = await start(dir);
    // A terminal's Ctrl-C signals the whole process group: the server gets it
    // directly and again from its parent.
    Deno.kill(server, "SIGINT");
    process.kill("SIGINT");
    const status = await process.status;
    const stderr = await output();
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /loge: stopped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno run -A main.ts serve: kill -9 of the process started kills the server too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-relaunch-" });
  try {
    const { process, url, server, output } = await start(dir);
    process.kill("SIGKILL");
    await process.status;
    for (let i = 0; i < 100 && await alive(server); i++) await sleep(20);
    assert.equal(await alive(server), false, "the server outlived its parent");
    await assert.rejects(fetch(url));
    await output();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task serve and deno task compile pass the server's V8 flags", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(tasks.serve, new RegExp(`^DENO_V8_FLAGS=${V8_FLAGS.join(",")} deno run -A main.ts`));
  assert.ok(tasks.compile.includes(`--v8-flags=${V8_FLAGS.join(",")} `), tasks.compile);
});
