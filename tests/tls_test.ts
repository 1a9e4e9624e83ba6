/**
 * `--tls-cert` and `--tls-key`: the server speaks HTTPS only, with the given
 * certificate; flags that cannot make a server exit 2 with a message naming
 * the flag, before anything is opened. Certificates are made by `openssl`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withServer } from "../testing/server.ts";
import { runLoge } from "../testing/cli.ts";

async function openssl(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", { args, stderr: "piped" }).output();
  assert.equal(code, 0, `openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * A certificate for localhost and 127.0.0.1 and its key, as files in `dir`,
 * signed by a test CA whose certificate is `ca` (TLS clients refuse a
 * self-signed CA certificate as a server's).
 */
async function certificate(
  dir: string,
  name: string,
): Promise<{ cert: string; key: string; ca: string }> {
  const path = (ext: string) => join(dir, `${name}.${ext}`);
  await openssl(
    "req",
    "-x509",
    ...EC_KEY,
    "-days",
    "2",
    "-subj",
    `/CN=${name} test CA`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.crt"),
  );
  await openssl(
    "req",
    ...EC_KEY,
    "-subj",
    "/CN=localhost",
    "-keyout",
    path("key"),
    "-out",
    path("csr"),
  );
  await Deno.writeTextFile(
    path("ext"),
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    path("csr"),
    "-CA",
    path("ca.crt"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    path("ext"),
    "-out",
    path("crt"),
  );
  return { cert: path("crt"), key: path("key"), ca: path("ca.crt") };
}

Deno.test("tls: pushes and queries over HTTPS with the given certificate; plain HTTP is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_tls_" });
  try {
    const { cert, key, ca } = await certificate(dir, "localhost");
    await withServer(async ({ url }) => {
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
      try {
        const ts = String(BigInt(Date.now()) * 1_000_000n);
        const push = await fetch(`${url}/api/v1/push`, {
          client,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ streams: [{ stream: { app: "tls" }, values: [[ts, "secret"]] }] }),
        });
        assert.equal(push.status, 200, await push.text());
        const read = await fetch(`${url}/api/v1/query`, {
          client,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: '{app="tls"}', limit: 10 }),
        });
        assert.equal(read.status, 200);
        assert.deepEqual((await read.json()).data.map((e: { line: string }) => e.line), [
          "secret",
        ]);
      } finally {
        client.close();
      }
      // A client that does not trust the certificate is refused by TLS itself.
      await assert.rejects(fetch(`${url}/api/v1/labels`));
      // Plain HTTP on the port gets no answer.
      await assert.rejects(fetch(`${url.replace("https:", "http:")}/api/v1/labels`));
    }, { args: ["--tls-cert", cert, "--tls-key", key] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: flags that cannot serve HTTPS exit 2 naming the flag, before the data folder is made", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge_tls_" });
  try {
    const a = await certificate(dir, "a");
    const b = await certificate(dir, "b");
    const garbage = join(dir, "garbage.pem");
    await Deno.writeTextFile(
      garbage,
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    );
    const data = join(dir, "data");
    const cases: [string[], RegExp][] = [
      [["--tls-cert", a.cert], /--tls-cert and --tls-key go together: --tls-key is missing/],
      [["--tls-key", a.key], /--tls-cert is missing/],
      [
        ["--tls-cert", join(dir, "none.crt"), "--tls-key", a.key],
        /cannot read --tls-cert .*none\.crt/,
      ],
      [["--tls-cert", a.cert, "--tls-key", a.cert], /--tls-key .*a\.crt holds no PEM private key/],
      [["--tls-cert", a.key, "--tls-key", a.key], /--tls-cert .*a\.key holds no PEM certificate/],
      [["--tls-cert", garbage, "--tls-key", a.key], /cannot parse --tls-cert .*garbage\.pem/],
      [
        ["--tls-cert", a.cert, "--tls-key", b.key],
        /--tls-key .*b\.key is not the private key of --tls-cert .*a\.crt/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runLoge([
        "serve",
        "--port",
        "0",
        "--output-path",
        data,
        ...args,
      ]);
      assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
      assert.match(stderr, message);
      assert.equal(stderr.split("\n").filter((l) => l).length, 1, stderr); // one line, no stack
    }
    await assert.rejects(Deno.stat(data), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
