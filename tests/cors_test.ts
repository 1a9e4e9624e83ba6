/**
 * `--cors-origin` in a real browser (Chromium through playwright-core): a
 * page served from another origin queries loge with an `Authorization`
 * header, which makes the browser send a preflight first. From an allowed
 * origin the query's lines reach the page; from another the browser stops
 * it. Needs `/usr/bin/chromium` (`apt-get install -y chromium`).
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startServer } from "../testing/server.ts";
import { runLoge } from "../testing/cli.ts";

const KEY = "cors-read-key";

/** A page on its own origin (another port of 127.0.0.1) that runs the script it is given. */
function pageServer(): { origin: string; close: () => Promise<void> } {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () =>
      new Response("<!doctype html><title>elsewhere</title>", {
        headers: { "content-type": "text/html" },
      }),
  );
  return { origin: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/** What a page at `origin` gets when it queries `loge`: the lines, or the browser's error. */
async function queryFrom(origin: string, loge: string): Promise<string[] | string> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(origin);
    return await page.evaluate(async ([url, key]) => {
      try {
        const res = await fetch(`${url}/api/v1/query`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: '{app="cors"}', start: "0" }),
        });
        return (await res.json()).data.map((e: { line: string }) => e.line);
      } catch (error) {
        return String(error);
      }
    }, [loge, KEY]);
  } finally {
    await browser.close();
  }
}

Deno.test("cors: a page on an allowed origin reads through a preflight; others are stopped by the browser", async () => {
  const page = pageServer();
  const other = pageServer();
  const server = await startServer({ args: ["--cors-origin", page.origin, "--api-key", KEY] });
  try {
    const res = await fetch(`${server.url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        streams: [{ stream: { app: "cors" }, values: [[String(Date.now() * 1e6), "from afar"]] }],
      }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await queryFrom(page.origin, server.url), ["from afar"]);
    assert.match(String(await queryFrom(other.origin, server.url)), /Failed to fetch/);
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
    await page.close();
    await other.close();
  }
});

Deno.test("cors: a --cors-origin that is not an origin exits 2 naming the flag", async () => {
  const run = await runLoge(["serve", "--port", "0", "--cors-origin", "https://app.example.com/"]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /invalid value "https:\/\/app.example.com\/" for --cors-origin: expected an origin/,
  );
});
