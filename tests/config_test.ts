/**
 * `loge serve --config`, `LOGE_*` environment variables and
 * `--print-config`, on the real command: flags win over the environment, the
 * environment over the file; each effective setting is printed with its
 * source, secrets hidden; bad files and keys exit 2 naming them; a server
 * started from a file runs with its settings.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withServer } from "../testing/server.ts";
import { runLoge } from "../testing/cli.ts";

const serve = (args: string[], env: Record<string, string> = {}) =>
  runLoge(["serve", ...args], env);

async function withFile(name: string, text: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge_config_" });
  try {
    const path = join(dir, name);
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config: --print-config shows each setting's value and source; flag > env > file > default", async () => {
  const yaml = [
    "port: 4100",
    "max-body-size: 2MiB",
    "flush-interval: 2s",
    "es-stream-fields: [host, app]",
    "api-key: from-the-file",
  ].join("\n");
  await withFile("loge.yaml", yaml, async (path) => {
    const run = await serve(["--config", path, "--port", "4300", "--print-config"], {
      LOGE_PORT: "4200",
      LOGE_FLUSH_INTERVAL: "3s",
    });
    assert.equal(run.code, 0, run.stderr);
    const settings = JSON.parse(run.stdout);
    assert.deepEqual(settings.port, { value: 4300, source: "flag" });
    assert.deepEqual(settings["flush-interval"], { value: 3000, source: "env" });
    assert.deepEqual(settings["max-body-size"], { value: 2 * 1024 * 1024, source: "file" });
    assert.deepEqual(settings["es-stream-fields"], { value: "host,app", source: "file" });
    assert.deepEqual(settings["api-key"], { value: "(set)", source: "file" });
    assert.deepEqual(settings["read-timeout"], { value: 30_000, source: "default" });
    assert.equal(settings.config.value, path);
    assert.ok(!run.stdout.includes("from-the-file"), "a secret was printed");
  });
});

Deno.test("config: JSON files, and LOGE_CONFIG names the file", async () => {
  await withFile("loge.json", '{"compact-workers": 1, "durable": false}', async (path) => {
    const run = await serve(["--print-config"], { LOGE_CONFIG: path });
    assert.equal(run.code, 0, run.stderr);
    const settings = JSON.parse(run.stdout);
    assert.deepEqual(settings["compact-workers"], { value: 1, source: "file" });
    assert.deepEqual(settings.durable, { value: false, source: "file" });
    assert.deepEqual(settings.config, { value: path, source: "env" });
  });
});

Deno.test("config: unknown keys, bad values and bad files exit 2 naming them", async () => {
  const cases: [string, RegExp][] = [
    ["prot: 1", /unknown key "prot" in .*loge\.yaml: keys are the flag names without --/],
    [
      "port: many",
      /invalid value "many" for --port: expected an integer ≥ 0 \(from .*loge\.yaml\)/,
    ],
    ["port: [1, {a: 2}]", /invalid value for "port" in .*loge\.yaml/],
    ["- a\n- b", /loge\.yaml must hold a mapping of flag names to values/],
    ["port: [1, 2", /loge\.yaml is not YAML or JSON/],
    ["config: other.yaml", /"config" in .*loge\.yaml is not a setting of the file/],
  ];
  for (const [text, message] of cases) {
    await withFile("loge.yaml", text, async (path) => {
      const run = await serve(["--config", path, "--print-config"]);
      assert.equal(run.code, 2, `${text}: ${run.stderr}`);
      assert.match(run.stderr, message);
    });
  }
  const missing = await serve(["--config", "/nonexistent/loge.yaml"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read --config \/nonexistent\/loge\.yaml/);
  const env = await serve(["--print-config"], { LOGE_MAX_BODY_SIZE: "lots" });
  assert.equal(env.code, 2);
  assert.match(
    env.stderr,
    /invalid value "lots" for --max-body-size: .* \(from LOGE_MAX_BODY_SIZE\)/,
  );
});

Deno.test("config: a server started from a file runs with its settings", async () => {
  await withFile("loge.yaml", "api-key: file-key\nmax-line-size: 100\n", async (path) => {
    await withServer(async ({ url }) => {
      const refused = await fetch(`${url}/api/v1/labels`);
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const read = await fetch(`${url}/api/v1/labels`, {
        headers: { authorization: "Bearer file-key" },
      });
      assert.equal(read.status, 200);
      await read.body?.cancel();
      const push = await fetch(`${url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          streams: [{
            stream: { app: "x" },
            values: [[String(Date.now() * 1e6), "y".repeat(101)]],
          }],
        }),
      });
      assert.equal(push.status, 400);
      assert.match((await push.json()).error, /over the limit of 100 \(--max-line-size\)/);
    }, { args: ["--config", path] });
  });
});
