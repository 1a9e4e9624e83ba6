import assert from "node:assert/strict";
import { zstdDecompressSync } from "node:zlib";
import { countPairs, FLOOR_SERVER } from "./floor_server.ts";
import { startServer } from "../testing/server.ts";
import { serverStats, waitFlushed } from "./server_control.ts";

/**
 * A JSON push body of `n` lines over two streams, some lines holding `[`, quotes and digits, and
 * the second `long` characters long.
 */
function body(n: number, long = 0): { text: string; lines: string[] } {
  const lines = Array.from({ length: n }, (_, i) => i % 3 === 0 ? `a ["${i}"] [\\"` : `line ${i}`);
  if (long > 0) lines[1] = "x".repeat(long);
  const values = (from: number) =>
    lines.flatMap((l, i) =>
      i % 2 === from ? [[String(1_795_219_200_000_000_000n + BigInt(i)), l]] : []
    );
  const payload = {
    streams: [{ stream: { app: "a" }, values: values(0) }, {
      stream: { app: "b" },
      values: values(1),
    }],
  };
  return { text: JSON.stringify(payload), lines };
}

Deno.test("countPairs() counts a body's lines however its chunks fall", () => {
  const { text, lines } = body(7);
  const bytes = new TextEncoder().encode(text);
  for (let a = 0; a <= bytes.length; a++) {
    for (const b of [a, Math.min(bytes.length, a + 1), Math.min(bytes.length, a + 2)]) {
      let carry = 0;
      let count = 0;
      for (const chunk of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) {
        const counted = countPairs(chunk, carry);
        count += counted.count;
        carry = counted.carry;
      }
      assert.equal(count, lines.length, `chunks split at ${a} and ${b}`);
    }
  }
});

Deno.test("the worker floor writes every pushed line to its file and answers stats as loge", async () => {
  const server = await startServer({
    main: FLOOR_SERVER,
    args: ["--floor", "worker", "--floor-rate", "100000"],
  });
  try {
    const { text, lines } = body(50, 300_000); // two frames: a frame holds 256 KiB
    const res = await fetch(`${server.url}/api/v1/push`, { method: "POST", body: text });
    assert.equal(res.status, 204);
    await res.body?.cancel();
    await waitFlushed(server.url, 50);
    assert.equal((await serverStats(server.url)).rows_total, 50);
    const written = new TextDecoder().decode(
      zstdDecompressSync(await Deno.readFile(`${server.dir}/floor.zst`)),
    );
    // The batch holds the lines stream by stream, as the body does.
    const expected = JSON.parse(text).streams.flatMap((s: { values: string[][] }) =>
      s.values.map((v) => v[1])
    );
    assert.equal(written, `${expected.join("\n")}\n`);
    assert.deepEqual([...expected].sort(), [...lines].sort());
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("the floor server refuses a bad flag with exit code 2 and names it", async () => {
  for (
    const [args, message] of [
      [["--floor", "nope", "--floor-rate", "5"], /Invalid --floor "nope"/],
      [["--floor", "parse"], /Missing --floor-rate/],
      [["--floor-rate", "0", "--output-path", "/tmp"], /Invalid --floor-rate "0"/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", FLOOR_SERVER, "serve", "--output-path", "/tmp", ...args],
    }).output();
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), message);
  }
});
