import assert from "node:assert/strict";
import { withCors } from "./cors.ts";

const ok = () => Promise.resolve(new Response("ok", { headers: { "content-type": "text/plain" } }));
const request = (method: string, headers: Record<string, string>) =>
  new Request("http://loge.test/api/v1/query", { method, headers });

Deno.test("withCors: a preflight from an allowed origin gets 204 with the methods and headers", async () => {
  const handle = withCors(ok, ["https://a.example", "https://b.example"]);
  const res = await handle(request("OPTIONS", {
    origin: "https://b.example",
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type, authorization",
  }));
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://b.example");
  assert.equal(res.headers.get("access-control-allow-methods"), "GET, POST, OPTIONS");
  assert.match(res.headers.get("access-control-allow-headers")!, /authorization.*content-type/);
  assert.equal(res.headers.get("vary"), "Origin");
});

Deno.test("withCors: a preflight from another origin gets 403 with the reason, and no CORS headers", async () => {
  const handle = withCors(ok, ["https://a.example"]);
  const res = await handle(request("OPTIONS", {
    origin: "https://evil.example",
    "access-control-request-method": "GET",
  }));
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  assert.match((await res.json()).error, /origin "https:\/\/evil.example" is not allowed/);
});

Deno.test("withCors: '*' allows any origin; answers keep their status, body and headers", async () => {
  const handle = withCors(
    () => Promise.resolve(new Response("nope", { status: 418, headers: { vary: "Accept" } })),
    ["*"],
  );
  const res = await handle(request("GET", { origin: "https://any.example" }));
  assert.equal(res.status, 418);
  assert.equal(await res.text(), "nope");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("vary"), "Accept, Origin");
});

Deno.test("withCors: without origins the handler is itself, and requests without Origin pass untouched", async () => {
  assert.equal(withCors(ok, []), ok);
  const res = await withCors(ok, ["https://a.example"])(request("GET", {}));
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  assert.equal(await res.text(), "ok");
});
