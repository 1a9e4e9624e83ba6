// Runs the @elastic/elasticsearch client's bulk helper against a loge server,
// as its users run it: `node bulk.mjs <loge url> <documents as JSON>`. Prints
// one JSON line: the cluster version from `client.info()`, the helper's
// figures and the documents it dropped (status and error). Exit code 2: timeout.
// Loaded through require, as tests/shippers/run.mjs loads its shippers: the
// package lives in this folder's node_modules, which deno check does not resolve.
import { createRequire } from "node:module";

const { Client } = createRequire(import.meta.url)("@elastic/elasticsearch");

const [url, documents] = process.argv.slice(2);

setTimeout(() => {
  console.error("bulk helper: not done after 20 s");
  process.exit(2);
}, 20_000).unref();

const client = new Client({ node: url });
const info = await client.info();
const dropped = [];
const stats = await client.helpers.bulk({
  datasource: JSON.parse(documents),
  flushBytes: 200,
  onDocument: () => ({ create: { _index: "logs-app" } }),
  onDrop: ({ status, error }) => dropped.push({ status, type: error?.type }),
});
await client.close();
console.log(JSON.stringify({
  version: info.version.number,
  total: stats.total,
  successful: stats.successful,
  failed: stats.failed,
  dropped,
}));
