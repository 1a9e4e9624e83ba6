import assert from "node:assert/strict";
import { isPlainJsonObject, scanJsonLabels } from "./json_scan.ts";

/**
 * The labels `| json` makes of `line`, computed the slow way: JSON.parse
 * with a reviver that keeps numbers as written, then a walk of the object.
 * `undefined` when JSON.parse refuses the line or it is not an object.
 */
function reference(line: string): Record<string, string> | undefined {
  class Num {
    constructor(readonly source: string) {}
  }
  let v: unknown;
  try {
    v = JSON.parse(
      line,
      (_k, x, c?: { source?: string }) => typeof x === "number" ? new Num(c!.source!) : x,
    );
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Num) {
    return undefined;
  }
  const out: Record<string, string> = {};
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, x] of Object.entries(o)) {
      let part = k.trim();
      if (prefix === "" && /^[0-9]/.test(part)) part = "_" + part;
      part = part.replace(/[^a-zA-Z0-9_]/gu, "_");
      // A blank key adds nothing to the name (Loki skips it when joining).
      const name = part === "" ? prefix : prefix === "" ? part : `${prefix}_${part}`;
      if (typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Num)) {
        walk(x as Record<string, unknown>, name);
      } else if (name === "") continue;
      else if (x instanceof Num) out[name] = x.source;
      else if (typeof x === "string") out[name] = x;
      else if (typeof x === "boolean") out[name] = String(x);
    }
  };
  walk(v as Record<string, unknown>, "");
  return out;
}

function scanned(line: string): Record<string, string> | undefined {
  const leaves = scanJsonLabels(line);
  if (leaves === undefined) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < leaves.length; i += 2) out[leaves[i]] = leaves[i + 1];
  return out;
}

/** A small deterministic generator (xorshift). */
function rng(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const STRINGS = [
  "plain",
  "",
  'a "quoted" word',
  "tab\there",
  "line\nbreak",
  "é ünï 日本",
  "emoji 😀",
  "\ud800 lone",
  "back\\slash",
  "</script>",
  "\u2028",
];
const NUMBERS = ["0", "-0", "1.50", "1e3", "-2.5E-7", "12345678901234567890", "42", "0.0"];
// Keys whose sanitized names never collide with each other, so that the order
// in which the two sides visit them cannot matter.
const KEYS = ["status", "http.code", "req path", " padded ", "ünï", "a-b", "x", "y_z", "", "q"];

function randomValue(next: () => number, depth: number): string {
  const r = next();
  if (r < 0.3) return JSON.stringify(STRINGS[Math.floor(next() * STRINGS.length)]);
  if (r < 0.55) return NUMBERS[Math.floor(next() * NUMBERS.length)];
  if (r < 0.62) return next() < 0.5 ? "true" : "false";
  if (r < 0.67) return "null";
  if (r < 0.8 && depth < 3) {
    const items = Array.from(
      { length: Math.floor(next() * 3) },
      () => randomValue(next, depth + 1),
    );
    return `[${items.join(next() < 0.5 ? "," : " , ")}]`;
  }
  if (depth < 3) return randomObject(next, depth + 1);
  return "1";
}

function randomObject(next: () => number, depth: number): string {
  const keys = KEYS.filter(() => next() < 0.4);
  const ws = () => [" ", "", "\n", "\t", "\r"][Math.floor(next() * 5)];
  const members = keys.map((k) =>
    `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${randomValue(next, depth)}`
  );
  return `{${members.join(",")}${ws()}}`;
}

/** `line` with one character inserted, removed or replaced at a random place. */
function mutate(next: () => number, line: string): string {
  const at = Math.floor(next() * (line.length + 1));
  const c = ['"', "\\", ",", "}", "{", "]", ":", "x", "0", "-", ".", "e", " ", "\u0001"][
    Math.floor(next() * 14)
  ];
  const r = next();
  if (r < 0.33) return line.slice(0, at) + c + line.slice(at);
  if (r < 0.66) return line.slice(0, at) + line.slice(at + 1);
  return line.slice(0, at) + c + line.slice(at + 1);
}

Deno.test("scanJsonLabels makes the labels JSON.parse makes, and never accepts what it refuses", () => {
  const next = rng(20261130);
  let scannedLines = 0;
  for (let i = 0; i < 20_000; i++) {
    let line = randomObject(next, 0);
    if (i % 2 === 1) line = mutate(next, line);
    const expected = reference(line);
    const got = scanned(line);
    if (expected === undefined) {
      assert.equal(got, undefined, `accepted what JSON.parse refuses: ${JSON.stringify(line)}`);
    } else if (got !== undefined) {
      assert.deepEqual(got, expected, JSON.stringify(line));
      scannedLines++;
    }
  }
  // Almost every valid line takes the fast path (giving up is allowed, but must be rare).
  assert.ok(scannedLines > 12_000, `only ${scannedLines} lines scanned`);
});

Deno.test("isPlainJsonObject accepts the lines scanJsonLabels reads whose keys hold no escape", () => {
  const next = rng(20261202);
  let plain = 0;
  for (let i = 0; i < 20_000; i++) {
    const whole = randomObject(next, 0); // its keys hold no escape, its strings do
    const line = i % 2 === 1 ? mutate(next, whole) : whole;
    const got = isPlainJsonObject(line);
    if (got) {
      plain++;
      assert.ok(
        reference(line) !== undefined,
        `accepted what JSON.parse refuses: ${JSON.stringify(line)}`,
      );
    }
    if (line === whole) assert.equal(got, scanned(line) !== undefined, JSON.stringify(line));
  }
  assert.ok(plain > 12_000, `only ${plain} lines plain`);
  assert.equal(isPlainJsonObject('{"a":{"st\\u0061tus":1}}'), false);
  assert.equal(isPlainJsonObject('{"a\\"b":1}'), false);
  assert.equal(isPlainJsonObject('{"a":"b\\"c"}'), true);
  assert.equal(isPlainJsonObject('{"a":"unclosed}'), false);
});

Deno.test("scanJsonLabels gives up on what is not a JSON object, and on deep nesting", () => {
  for (
    const line of [
      "",
      "GET / 200",
      "[1,2]",
      '"text"',
      "42",
      "{",
      '{"a":1}x',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":tru}',
      '{"a":"\\x"}',
      '{"a":"raw\ttab"}',
      "{'a':1}",
      '{"a" 1}',
      '{"a":1,}',
      '{"a":[1,]}',
      "[".repeat(20_000) + "]".repeat(20_000),
    ]
  ) {
    assert.equal(scanJsonLabels(line), undefined, JSON.stringify(line.slice(0, 40)));
  }
  const deep = '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000);
  assert.equal(scanJsonLabels(deep), undefined);
});

Deno.test("scanJsonLabels keeps the line's order, a name made twice coming twice", () => {
  // Loki's parser visits keys in the line's order; JSON.parse would put "1" first.
  assert.deepEqual(scanJsonLabels('{"_1":"a","1":"b","a.b":"c","a-b":"d","k":"e","k":"f"}'), [
    "_1",
    "a",
    "_1",
    "b",
    "a_b",
    "c",
    "a_b",
    "d",
    "k",
    "e",
    "k",
    "f",
  ]);
});
