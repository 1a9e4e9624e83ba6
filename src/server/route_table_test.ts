import assert from "node:assert/strict";
import { RouteTable } from "./route_table.ts";

const table = new RouteTable([
  ["GET", new URLPattern({ pathname: "/" }), "root"],
  ["GET", new URLPattern({ pathname: "/assets/*" }), "assets"],
  ["POST", new URLPattern({ pathname: "{/insert/elasticsearch}?{/:index}?/_bulk" }), "bulk"],
  ["GET", new URLPattern({ pathname: "/_bulk" }), "plain bulk"],
  ["POST", new URLPattern({ pathname: "/api/v1/push" }), "push"],
]);

Deno.test("RouteTable: a plain path matches itself only", () => {
  assert.deepEqual(table.match("/").map((m) => m.handler), ["root"]);
  assert.deepEqual(table.match("/api/v1/push").map((m) => m.handler), ["push"]);
  assert.deepEqual(table.match("/api/v1/push/"), []);
  assert.deepEqual(table.match("/api/v1"), []);
});

Deno.test("RouteTable: patterns match with their parameters, after the plain path's routes", () => {
  assert.deepEqual(table.match("/_bulk").map((m) => m.handler), ["plain bulk", "bulk"]);
  const [logs] = table.match("/insert/elasticsearch/logs/_bulk");
  assert.equal(logs.handler, "bulk");
  assert.equal(logs.params.index, "logs");
  assert.deepEqual(table.match("/assets/app.js").map((m) => m.handler), ["assets"]);
});

Deno.test("RouteTable: a path with URLPattern's syntax in it is matched as text", () => {
  // `:` and `*` in a requested path are characters, never parameters.
  assert.deepEqual(table.match("/:index/_bulk").map((m) => m.handler), ["bulk"]);
  assert.deepEqual(table.match("/api/v1/*"), []);
});
