/**
 * End-to-end tests of the web UI: the real `loge serve` process, driven in
 * Debian's Chromium through playwright-core, as a user would.
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`). Set
 * `LOGE_UI_SCREENSHOTS=1` to refresh the screenshots in `docs/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { pushJson, startServer, type TestServer } from "../testing/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = Deno.env.get("LOGE_UI_SCREENSHOTS") === "1";
const DOCS = new URL("../docs/", import.meta.url).pathname;
const MS = 1_000_000n;

type Stream = { stream: Record<string, string>; values: [string, string][] };

async function launch(): Promise<Browser> {
  if (!(await Deno.stat(CHROMIUM).catch(() => null))) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

const nowNs = () => BigInt(Date.now()) * MS;

/**
 * A deterministic hour of logs from three apps, ending `ageMs` ago: plain,
 * `timeout` errors and JSON lines, with `level` labels.
 */
function sampleStreams(count: number, ageMs = 1000): Stream[] {
  const end = nowNs() - BigInt(ageMs) * MS;
  const streams = new Map<string, Stream>();
  const paths = ["/api/orders", "/api/users", "/login", "/api/cart", "/health"];
  for (let i = 0; i < count; i++) {
    // Denser towards the present, with a burst 20 minutes ago.
    const minutesAgo = i % 7 === 0 ? 20 + (i % 3) / 3 : 58 * ((i * 7919) % count) / count;
    const ts = end - BigInt(Math.round(minutesAgo * 60_000)) * MS - BigInt(i);
    const app = ["web", "api", "worker"][i % 3];
    const level = i % 7 === 0 ? "error" : i % 5 === 0 ? "warn" : i % 11 === 0 ? "debug" : "info";
    const path = paths[i % paths.length];
    const line = app === "api"
      ? JSON.stringify({ msg: "request", method: "GET", path, status: 200, duration_ms: i % 97 })
      : level === "error"
      ? `GET ${path} failed: upstream timeout after 30s (attempt ${i % 4 + 1})`
      : `${app} handled ${path} in ${i % 90} ms`;
    const key = `${app}/${level}`;
    if (!streams.has(key)) streams.set(key, { stream: { app, level }, values: [] });
    streams.get(key)!.values.push([String(ts), line]);
  }
  return [...streams.values()];
}

/** POSTs `/api/v1/query` from the test (not the browser) and returns the lines. */
async function queryLines(url: string, query: string, headers: HeadersInit = {}) {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, limit: 5000 }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).data as { line: string }[];
}

/** Pushes and waits until every line is queryable (within one flush interval). */
async function pushAndWait(server: TestServer, streams: Stream[], headers: HeadersInit = {}) {
  const before = (await queryLines(server.url, "", headers)).length;
  const { status } = await pushJson(server.url, { streams });
  assert.equal(status, 200);
  const expected = before + streams.reduce((n, s) => n + s.values.length, 0);
  for (let i = 0; i < 100; i++) {
    if ((await queryLines(server.url, "", headers)).length >= expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pushed lines did not become queryable: expected ${expected}`);
}

/** Types a query into the bar, presses Enter and waits for the lines to load. */
async function runQuery(page: Page, query: string) {
  await page.fill("#q", query);
  await page.press("#q", "Enter");
  await idle(page);
}

/** Waits until the page has no query in flight. Browser-side code is passed as a string. */
const idle = (page: Page) => page.waitForFunction('!document.body.classList.contains("loading")');

/** Waits until the query bar holds `query`. */
const queryIs = (page: Page, query: string) =>
  page.waitForFunction(`document.querySelector("#q").value === ${JSON.stringify(query)}`);

const rowTexts = (page: Page) => page.locator("#lines .row .line").allTextContents();

async function screenshot(page: Page, name: string) {
  if (!SCREENSHOTS) return;
  await Deno.mkdir(DOCS, { recursive: true });
  await page.screenshot({ path: `${DOCS}${name}` });
}

Deno.test("web UI: query, errors, chips, labels, histogram, live tail, themes", async (t) => {
  const server = await startServer();
  const browser = await launch();
  try {
    await pushAndWait(server, sampleStreams(420));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pageErrors: Error[] = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(server.url);

    await t.step("a query shows the pushed lines, newest first, terms highlighted", async () => {
      await runQuery(page, '{app="web"} |= "timeout"');
      const expected = (await queryLines(server.url, '{app="web"} |= "timeout"')).map((e) =>
        e.line
      );
      assert.ok(expected.length > 5);
      assert.deepEqual(await rowTexts(page), expected.slice(0, 100));
      const marks = await page.locator("#lines .row mark").allTextContents();
      assert.ok(marks.length >= expected.length && marks.every((m) => m === "timeout"));
      assert.match(page.url(), /q=%7Bapp%3D%22web%22%7D/);
      assert.equal(await page.getAttribute("#q", "aria-invalid"), null);
    });

    await t.step("a parse error is shown inline at the server's position", async () => {
      await runQuery(page, '{app="web"');
      const error = page.locator("#query-error");
      await error.waitFor({ state: "visible" });
      assert.match(
        await error.textContent() ?? "",
        /cannot parse query at 11: expected "," or "}"/,
      );
      assert.equal(await page.getAttribute("#q", "aria-invalid"), "true");
      // Position 11 is past the end: the marker sits after the last character.
      assert.equal(await error.locator("mark").textContent(), " ");
      await screenshot(page, "web-ui-error.png");
      await runQuery(page, '{app="web"}');
      assert.ok(await error.isHidden());
    });

    await t.step("clicking a label chip narrows the query; the URL keeps it", async () => {
      await runQuery(page, '{app="web"}');
      await page.locator('#lines .chip[data-name="level"][data-value="error"]').first().click();
      await queryIs(page, '{app="web", level="error"}');
      await idle(page);
      const levels = await page.locator('#lines .chip[data-name="level"] .v').allTextContents();
      assert.ok(levels.length > 0 && levels.every((l) => l === "error"));
      await page.reload();
      assert.equal(await page.inputValue("#q"), '{app="web", level="error"}');
      await page.locator("#lines .row").first().waitFor();
    });

    await t.step("the label browser lists keys, then values, and filters by one", async () => {
      await runQuery(page, "");
      await page.locator('aside details[data-key="app"] summary').click();
      const value = page.locator('aside details[data-key="app"] button.value[data-value="api"]');
      await value.waitFor();
      assert.deepEqual(
        await page.locator('aside details[data-key="app"] button.value').allTextContents(),
        ["api", "web", "worker"],
      );
      await value.click();
      await queryIs(page, '{app="api"}');
    });

    await t.step("JSON lines expand pretty-printed", async () => {
      await runQuery(page, '{app="api"}');
      await page.locator("#lines .row .toggle").first().click();
      const pretty = await page.locator("#lines .details pre.json").first().textContent();
      assert.match(pretty ?? "", /^\{\n {2}"msg": "request",\n {2}"method": "GET",/);
    });

    await t.step("the histogram is drawn by level; dragging zooms the range", async () => {
      await runQuery(page, "");
      await page.locator("#histogram rect.bar").first().waitFor();
      const legend = await page.locator("#legend").textContent();
      for (const level of ["error", "warn", "info", "debug"]) assert.ok(legend?.includes(level));
      assert.ok(await page.locator("#histogram rect.bar.lvl-error").count() > 0);
      await page.locator('#lines .row .toggle:text("{}")').first().click();
      const app = page.locator('aside details[data-key="app"]');
      if (await app.getAttribute("open") === null) await app.locator("summary").click();
      await app.locator("button.value").first().waitFor();
      await screenshot(page, "web-ui.png");
      const box = (await page.locator("#histogram svg").boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      await page.waitForFunction('location.search.includes("from=")');
      assert.equal(await page.inputValue("#range"), "custom");
      const url = new URL(page.url());
      const [from, to] = [
        BigInt(url.searchParams.get("from")!),
        BigInt(url.searchParams.get("to")!),
      ];
      assert.ok(to > from && to - from < 30n * 60_000n * MS && to - from > 10n * 60_000n * MS);
      await page.locator("#histogram rect.bar").first().waitFor();
    });

    await t.step("load older continues from the last timestamp without repeats", async () => {
      await page.selectOption("#range", "1h");
      await page.fill("#limit", "25");
      await runQuery(page, '{app="worker"}');
      const all = (await queryLines(server.url, '{app="worker"}')).map((e) => e.line);
      assert.equal((await rowTexts(page)).length, 25);
      await page.click("#older");
      await page.waitForFunction('document.querySelectorAll("#lines .row").length === 50');
      assert.deepEqual(await rowTexts(page), all.slice(0, 50));
      await page.fill("#limit", "100");
    });

    await t.step(
      "live tail receives lines pushed after it started, through the server's stream; scrolling up pauses it",
      async () => {
        const pushWeb = (line: string, ts = nowNs()) =>
          pushJson(server.url, {
            streams: [{ stream: { app: "web", level: "info" }, values: [[String(ts), line]] }],
          });
        const lineRow = (line: string) => page.locator("#lines .row .line", { hasText: line });
        await runQuery(page, '{app="web"}');
        // The stream answers once the server has subscribed it.
        const subscribed = page.waitForResponse((r) => r.url().includes("/api/v1/tail?"));
        await page.click("#live");
        const stream = await subscribed;
        // From now on, lines come through the stream: no polling.
        const queries: string[] = [];
        const onRequest = (r: { url(): string }) => {
          if (r.url().includes("/api/v1/query")) queries.push(r.url());
        };
        page.on("request", onRequest);
        assert.equal(stream.status(), 200);
        assert.match(stream.url(), /query=%7Bapp%3D%22web%22%7D&start=\d+&limit=1000/);
        await page.waitForFunction('document.querySelector("#tail-status").textContent !== ""');
        assert.match(page.url(), /live=1/);
        const line = `tailed line ${crypto.randomUUID()}`;
        await pushWeb(line);
        await lineRow(line).waitFor({ timeout: 10_000 });
        // Newest at the bottom, scrolled into view.
        assert.equal(await page.locator("#lines .row .line").last().textContent(), line);
        // A line that arrives late, older than those shown, is delivered too.
        const late = `late line ${crypto.randomUUID()}`;
        await pushWeb(late, nowNs() - 10n * 60_000n * MS);
        await lineRow(late).waitFor({ timeout: 10_000 });
        assert.equal(await page.locator("#lines .row .line").last().textContent(), late);
        page.off("request", onRequest);
        assert.deepEqual(queries, []);
        const box = (await lineRow(line).boundingBox())!;
        assert.ok(box.y > 0 && box.y + box.height <= 800);
        await screenshot(page, "web-ui-live.png");

        await page.evaluate('document.querySelector("#results").scrollTop = 0');
        await page.waitForFunction(
          'document.querySelector("#tail-status").textContent.includes("Paused")',
        );
        const held = `held line ${crypto.randomUUID()}`;
        await pushWeb(held);
        await page.locator("#resume").waitFor({ timeout: 10_000 });
        assert.equal(await lineRow(held).count(), 0);
        await page.click("#resume");
        await lineRow(held).waitFor();
        await page.click("#live");
        await page.waitForFunction('!location.search.includes("live")');
      },
    );

    await t.step("dark mode follows the system; the toggle is remembered", async () => {
      const dark = await browser.newContext({
        colorScheme: "dark",
        viewport: { width: 1280, height: 800 },
      });
      try {
        const darkPage = await dark.newPage();
        await darkPage.goto(`${server.url}/?q=${encodeURIComponent('{app="api"}')}`);
        await darkPage.locator("#lines .row").first().waitFor();
        await darkPage.locator("#histogram rect.bar").first().waitFor();
        const background = () =>
          darkPage.evaluate("getComputedStyle(document.body).backgroundColor");
        assert.equal(await background(), "rgb(14, 17, 22)");
        await darkPage.locator("#lines .row .toggle").first().click();
        await screenshot(darkPage, "web-ui-dark.png");
        await darkPage.click("#theme");
        assert.equal(await background(), "rgb(255, 255, 255)");
        await darkPage.reload();
        assert.equal(await background(), "rgb(255, 255, 255)");
      } finally {
        await dark.close();
      }
    });
    await page.close();
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

const API_KEY = "s3cret-key";

/** Runs `fn` with a page of a server that needs `API_KEY`, holding sample lines. */
async function withKeyedPage(fn: (page: Page, server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer({ args: ["--api-key", API_KEY] });
  const browser = await launch();
  try {
    await pushAndWait(server, sampleStreams(30), { authorization: `Bearer ${API_KEY}` });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await fn(page, server);
    await page.close();
  } finally {
    await browser.close();
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
}

/** Answers the key dialog with a wrong key, then with `API_KEY`, and waits for the lines. */
async function enterKey(page: Page): Promise<void> {
  await page.fill("#key-input", "wrong");
  await page.press("#key-input", "Enter");
  await page.waitForFunction(
    'document.querySelector("#key-reason").textContent.includes("rejected")',
  );
  await page.fill("#key-input", API_KEY);
  await page.click('#key-dialog button[value="save"]');
  await page.locator("#lines .row").first().waitFor();
}

Deno.test("web UI: a request refused with an old key after a new one was saved retries with it, without asking again", () =>
  withKeyedPage(async (page, server) => {
    // The histogram's answer to the wrong key comes late: after the right key is saved.
    let release!: () => void;
    const late = new Promise<void>((resolve) => release = resolve);
    await page.route("**/api/v1/volume", async (route) => {
      const response = await route.fetch();
      if (route.request().headers().authorization === "Bearer wrong") await late;
      await route.fulfill({ response });
    });
    await page.goto(server.url);
    const dialog = page.locator("#key-dialog");
    await dialog.waitFor({ state: "visible" });
    await enterKey(page);
    const retried = page.waitForResponse(
      (r) =>
        r.url().includes("/api/v1/volume") &&
        r.request().headers().authorization === `Bearer ${API_KEY}`,
      { timeout: 5000 },
    );
    release();
    assert.equal((await retried).status(), 200);
    await page.waitForTimeout(300);
    assert.ok(await dialog.isHidden(), "asked for a key again");
  }));

Deno.test("web UI: asks for the API key on 401, keeps it, forgets it", () =>
  withKeyedPage(async (page, server) => {
    await page.goto(server.url);
    const dialog = page.locator("#key-dialog");
    await dialog.waitFor({ state: "visible" });
    assert.match(await page.locator("#key-reason").textContent() ?? "", /missing API key/);
    await enterKey(page);
    assert.equal(await page.evaluate('localStorage.getItem("loge.apiKey")'), API_KEY);
    // Kept across a reload: no prompt.
    await page.reload();
    await page.locator("#lines .row").first().waitFor();
    assert.ok(await dialog.isHidden());
    // The live tail's stream sends the key too.
    const subscribed = page.waitForResponse((r) => r.url().includes("/api/v1/tail?"));
    await page.click("#live");
    assert.equal((await subscribed).status(), 200);
    const line = `keyed line ${crypto.randomUUID()}`;
    const { status } = await pushJson(server.url, {
      streams: [{ stream: { app: "web" }, values: [[String(nowNs()), line]] }],
    });
    assert.equal(status, 200);
    await page.locator("#lines .row .line", { hasText: line }).waitFor({ timeout: 10_000 });
    await page.click("#live");
    await page.click("#forget-key");
    assert.equal(await page.evaluate('localStorage.getItem("loge.apiKey")'), null);
    assert.ok(await page.locator("#forget-key").isHidden());
    await page.reload();
    await dialog.waitFor({ state: "visible" });
  }));

Deno.test("web UI: an answer that --max-response-size cut short offers older lines, and they come", async () => {
  const server = await startServer({ args: ["--max-response-size", "40000"] });
  const browser = await launch();
  try {
    // 30 lines of 5,000 characters: 7 of them fit 40,000 with their labels, far below the limit.
    const end = nowNs() - 1000n * MS;
    const values = Array.from({ length: 30 }, (_, i): [string, string] => [
      String(end - BigInt(i) * MS),
      `line ${String(i).padStart(2, "0")} `.padEnd(5000, "x"),
    ]);
    assert.equal(
      (await pushJson(server.url, { streams: [{ stream: { app: "big" }, values }] })).status,
      200,
    );
    for (let i = 0; (await queryLines(server.url, '{app="big"} |= "line 29"')).length === 0; i++) {
      if (i === 100) throw new Error("the pushed lines did not become queryable");
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/?q=${encodeURIComponent('{app="big"}')}&range=1h`);
    await page.locator("#lines .row").first().waitFor();
    await idle(page);
    const texts = async () => (await rowTexts(page)).map((t) => t.slice(0, 8));
    const newest = values.map(([, line]) => line.slice(0, 8));
    assert.deepEqual(await texts(), newest.slice(0, 7));
    assert.match(await page.textContent("#status") ?? "", /7 lines \(size limit reached\)/);
    for (let shown = 7; shown < 30;) {
      assert.equal(await page.isVisible("#older"), true, `older offered after ${shown} lines`);
      await page.click("#older");
      await page.waitForFunction(
        `document.querySelectorAll("#lines .row").length > ${shown} && !document.querySelector("#older").disabled`,
      );
      shown = (await rowTexts(page)).length;
    }
    assert.deepEqual(await texts(), newest);
    await page.waitForFunction('document.querySelector("#older").hidden');
  } finally {
    await browser.close();
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("web UI: a live tail that reconnects to more lines than --max-response-size holds marks the skipped ones, then goes on", async () => {
  const args = ["--max-response-size", "40000"];
  let server = await startServer({ args });
  const browser = await launch();
  try {
    const push = async (values: [string, string][]) =>
      assert.equal(
        (await pushJson(server.url, { streams: [{ stream: { app: "big" }, values }] })).status,
        200,
      );
    const queryable = async (needle: string) => {
      for (
        let i = 0;
        (await queryLines(server.url, `{app="big"} |= "${needle}"`)).length === 0;
        i++
      ) {
        if (i === 100) throw new Error(`"${needle}" did not become queryable`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const start = nowNs() - 60_000n * MS;
    await push([[String(start), "shown before the tail"]]);
    await queryable("shown before");
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const subscribed = () => page.waitForResponse((r) => r.url().includes("/api/v1/tail?"));
    const first = subscribed();
    await page.goto(`${server.url}/?q=${encodeURIComponent('{app="big"}')}&range=1h&live=1`);
    assert.equal((await first).status(), 200);
    await page.locator("#lines .row").first().waitFor();
    assert.deepEqual(await rowTexts(page), ["shown before the tail"]);

    // The server restarts (the stream ends), and the page's next stream is held until 30 lines of
    // 5,000 characters have arrived. It replays from the newest line shown: the newest 7 fit
    // 40,000 characters with their labels, as in a query, and the 23 before them are marked as
    // skipped.
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    await page.route("**/api/v1/tail?*", async (route) => {
      await held;
      await route.continue();
    });
    const stopped = server.stop();
    await page.waitForFunction(
      'document.querySelector("#tail-status").textContent.includes("reconnecting")',
    );
    assert.equal(await stopped, 0, server.stderr());
    const port = new URL(server.url).port;
    const restarted = await startServer({ dir: server.dir, args: [...args, "--port", port] });
    server = restarted;
    const values = Array.from({ length: 30 }, (_, i): [string, string] => [
      String(start + BigInt(i + 1) * MS),
      `line ${String(i).padStart(2, "0")} `.padEnd(5000, "x"),
    ]);
    await push(values);
    await queryable("line 29");
    const again = subscribed();
    release();
    assert.equal((await again).status(), 200);
    await page.waitForFunction('document.querySelectorAll("#lines .row").length === 8');
    const shown = () =>
      page.locator("#lines > li").evaluateAll((items) =>
        items.map((li) =>
          li.classList.contains("gap") ? "gap" : li.querySelector(".line")!.textContent!.slice(0, 8)
        )
      );
    const newest = values.slice(23).map(([, line]) => line.slice(0, 8));
    assert.deepEqual(await shown(), ["shown be", "gap", ...newest]);
    assert.equal(
      await page.textContent("#lines li.gap"),
      "… lines since the last shown that one answer cannot hold are skipped",
    );

    // The tail goes on after its cut replay: a line pushed now comes after them.
    await push([[String(nowNs()), "tailed after the cut"]]);
    await page.locator("#lines .row .line", { hasText: "tailed after the cut" }).waitFor({
      timeout: 10_000,
    });
    assert.deepEqual(await shown(), ["shown be", "gap", ...newest, "tailed a"]);
  } finally {
    await browser.close();
    await server.stop().catch(() => {}); // stopped already when its restart failed
    await Deno.remove(server.dir, { recursive: true });
  }
});
