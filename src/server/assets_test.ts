import assert from "node:assert/strict";
import { relative } from "node:path";
import { createAssets } from "./assets.ts";
import { HttpError } from "./errors.ts";

const WEB = new URL("../../web/", import.meta.url).pathname;
const assets = createAssets({ DEFAULT_LIMIT: 123, MAX_LIMIT: 4567 });
const get = (path: string, headers: HeadersInit = {}) =>
  assets(new Request(`http://loge${path}`, { headers }), path);

async function webFiles(dir = WEB): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) files.push(...await webFiles(`${path}/`));
    else files.push(relative(WEB, path));
  }
  return files;
}

Deno.test("assets: every file of web/ is served, with its content type", async () => {
  for (const file of await webFiles()) {
    const path = file === "index.html" ? "/" : `/assets/${file}`;
    const res = get(path);
    assert.equal(res.status, 200, path);
    const type = { html: "text/html", css: "text/css", js: "text/javascript" }[
      file.split(".").pop()!
    ];
    assert.equal(res.headers.get("content-type"), `${type}; charset=utf-8`, path);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    if (path !== "/") assert.equal(await res.text(), await Deno.readTextFile(`${WEB}${file}`));
    else await res.body?.cancel();
  }
});

Deno.test("assets: the page carries the server's limits", async () => {
  const page = await get("/").text();
  assert.match(page, /max="4567"/);
  assert.match(page, /value="123"/);
  assert.doesNotMatch(page, /\{\{/);
});

Deno.test("assets: unknown paths are 404, and a matching ETag is 304", async () => {
  assert.throws(() => get("/assets/js/nope.js"), (e) => e instanceof HttpError && e.status === 404);
  assert.throws(() => get("/assets/"), HttpError);
  const first = get("/assets/js/main.js");
  await first.body?.cancel();
  const again = get("/assets/js/main.js", { "if-none-match": first.headers.get("etag")! });
  assert.equal(again.status, 304);
  assert.equal(again.body, null);
});
