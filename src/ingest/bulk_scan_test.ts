import assert from "node:assert/strict";
import {
  decodeEsBulk,
  type EsBulkHeader,
  MAX_BULK_DOCUMENTS,
  parseBulk,
  scanBulk,
} from "./es_bulk.ts";
import { ReceivedBody } from "./received_body.ts";

// The scanner's path (`scanBulk`, the WASM reader) must answer every body as
// the JSON.parse path (`parseBulk`) does: the same payload and items, or the
// same error. Bodies are drawn at random from the shapes shippers send and
// from the corners of JSON, UTF-8 and the bulk format.

const header: EsBulkHeader = {
  streamFields: ["app", "host.name", "level"],
  msgFields: ["message", "_msg"],
  timeField: "@timestamp",
  receivedNs: 1_767_225_600_000_000_000n,
};

/** A fixed-seed xorshift, so a failure repeats. */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
type Random = ReturnType<typeof random>;

const cuts = random(0xc075);

/**
 * `bytes` as a body arrives: in chunks cut at random places (anywhere, in a
 * line or a character), which the scanner reads in place.
 */
function chunked(bytes: Uint8Array): ReceivedBody {
  const parts: Uint8Array[] = [];
  const count = 1 + cuts.int(12);
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const end = i === count - 1
      ? bytes.length
      : Math.min(bytes.length, at + 1 + cuts.int(bytes.length / count * 2));
    parts.push(bytes.slice(at, end));
    at = end;
  }
  return new ReceivedBody(parts);
}

const STRINGS = [
  "",
  "web",
  "GET /index.html HTTP/1.1",
  'quoted \\"word\\" here',
  "back\\\\slash",
  "tab\\tnew\\nline\\r\\b\\f\\/",
  "\\u00e9t\\u00e9 \\u65e5",
  "\\ud83d\\ude00 pair",
  "lone \\ud800 surrogate",
  "é日本😀 raw",
  "x".repeat(40) + '\\"' + "y".repeat(13) + '\\"',
  "0123456789abcdef0123456789abcde\\",
  '{\\"ts\\":\\"2026-11-21T00:00:00.006335Z\\",\\"level\\":\\"info\\",\\"msg\\":\\"ok\\"}',
  "bad \\x escape",
  "raw \t tab",
  "2026-01-01T00:00:00Z",
  "\\ufeffhi",
  "\ufeffraw",
];
const TIMES = [
  '"2026-01-01T00:00:00Z"',
  '"2026-01-01T00:00:00.5Z"',
  '"2026-02-03T04:05:06.123456789Z"',
  '"2026-02-03t04:05:06.1234567891z"',
  '"2026-02-30T00:00:00Z"',
  '"2026-01-01T00:00:00+02:00"',
  '"1969-12-31T23:59:59Z"',
  '"2262-04-12T00:00:00Z"',
  '"1767225600"',
  '"1767225600123"',
  "1767225600123456789",
  "1767225600",
  "1.5",
  '"yesterday"',
  "true",
  "null",
];
const NUMBERS = [
  "0",
  "-5",
  "42",
  "123456789012345",
  "1234567890123456",
  "-0",
  "1.5",
  "1e3",
  "00",
  "-",
];

function value(r: Random, depth: number): string {
  const k = r.int(12);
  if (k < 6) return `"${r.pick(STRINGS)}"`;
  if (k < 8) return r.pick(NUMBERS);
  if (k === 8) return r.pick(["true", "false", "null"]);
  if (k === 9) return depth < 2 ? object(r, depth + 1) : "{}";
  if (k === 10) return r.pick(["[]", "[1,2]", '["a"]']);
  return r.pick(['"unterminated', "tru", "{", '"a"b']);
}

const KEYS = [
  "message",
  "_msg",
  "@timestamp",
  "app",
  "level",
  "pid",
  "trace.id",
  "host",
  "user_agent",
  "a-b",
  "123",
  "__proto__",
  "k\\u0041",
  "kubernetes.pod.name",
  "a_key_longer_than_the_cache_holds",
  "é",
  "",
];

function member(r: Random, key: string, depth: number): string {
  const ws = () => r.chance(0.1) ? r.pick([" ", "\t", " \r "]) : "";
  let v: string;
  if (key === "@timestamp") v = r.pick(TIMES);
  else if (key === "host" && r.chance(0.7)) v = `{"name":"${r.pick(["h1", "h2", "é"])}"}`;
  else if ((key === "app" || key === "level") && r.chance(0.7)) {
    v = `"${r.pick(["web", "api", "info", "", 'x\\"y'])}"`;
  } else v = value(r, depth);
  return `${ws()}"${key}"${ws()}:${ws()}${v}${ws()}`;
}

function object(r: Random, depth: number): string {
  const n = r.int(5);
  const members: string[] = [];
  for (let i = 0; i < n; i++) members.push(member(r, r.pick(KEYS), depth));
  return `{${members.join(",")}}`;
}

/** A document as shippers send it: time, labels, message, a few more fields. */
function shipperDocument(r: Random): string {
  const members = [
    member(r, "@timestamp", 0),
    member(r, "app", 0),
    member(r, "host", 0),
    member(r, "level", 0),
    member(r, r.chance(0.9) ? "message" : "_msg", 0),
  ];
  for (let i = r.int(3); i > 0; i--) members.push(member(r, r.pick(KEYS), 0));
  if (r.chance(0.2)) members.reverse();
  return `{${members.join(",")}}`;
}

function document(r: Random): string {
  const k = r.int(20);
  if (k < 14) return shipperDocument(r);
  if (k < 18) return object(r, 0);
  return r.pick(["[1]", '"text"', "{} x", "", '{"message":"a"}}', "null"]);
}

const ACTIONS = [
  '{"create":{}}',
  '{"index":{"_index":"logs"}}',
  '{"create":{"_index":"filebeat-2026.12.01"}}',
  ' {"create":{}} ',
  '{"create":{}}\r',
  '{"delete":{"_id":"1"}}',
  '{"update":{"_id":"1"}}',
];
const BAD_ACTIONS = ['{"bogus":{}}', "not json", '{"create":{},"index":{}}', "[]"];
const BLANKS = ["", "  ", "\t", "\r", "\u00a0", " \u2028 ", "\ufeff"];

/** A body of action and document lines, rarely broken. */
function body(r: Random): Uint8Array {
  const lines: string[] = [];
  const pairs = 1 + r.int(12);
  for (let i = 0; i < pairs; i++) {
    if (r.chance(0.05)) lines.push(r.pick(BLANKS));
    const action = r.chance(0.01)
      ? r.pick(BAD_ACTIONS)
      : r.chance(0.8)
      ? ACTIONS[0]
      : r.pick(ACTIONS);
    lines.push(action);
    if (action.includes("delete")) continue;
    if (r.chance(0.03)) lines.push(r.pick(BLANKS));
    if (i === pairs - 1 && r.chance(0.02)) break; // an action without its document
    lines.push(document(r));
  }
  const text = lines.join(r.chance(0.05) ? "\r\n" : "\n") + (r.chance(0.7) ? "\n" : "");
  const bytes = new TextEncoder().encode(text);
  if (r.chance(0.02)) {
    const broken = new Uint8Array(bytes.length + 1);
    broken.set(bytes);
    broken[r.int(bytes.length + 1)] = 0xff; // invalid UTF-8
    return broken.subarray(0, bytes.length + 1);
  }
  return bytes;
}

type Outcome = { answer: unknown } | { error: string };

function outcome(decode: () => unknown): Outcome {
  try {
    return { answer: decode() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

Deno.test("the scanner's path answers random bodies as JSON.parse does", () => {
  const r = random(0x5eed);
  let scanned = 0;
  let created = 0;
  const bodies = 4000;
  for (let n = 0; n < bodies; n++) {
    const bytes = body(r);
    const expected = outcome(() => parseBulk(bytes, header));
    const fast = outcome(() => scanBulk(chunked(bytes), header));
    if ("answer" in fast && fast.answer === undefined) continue; // left to JSON.parse
    scanned++;
    if ("answer" in expected) {
      created += (expected.answer as { items: Record<string, { status: number }>[] }).items
        .filter((item) => Object.values(item)[0].status === 201).length;
    }
    assert.deepEqual(fast, expected, `body ${n}: ${new TextDecoder().decode(bytes)}`);
    assert.deepEqual(outcome(() => decodeEsBulk(chunked(bytes), header)), expected);
  }
  // Most bodies go the scanner's way, and most of their documents are stored.
  assert.ok(scanned > bodies * 0.8, `scanned ${scanned} of ${bodies}`);
  assert.ok(created > bodies, `created ${created}`);
});

Deno.test("the scanner's path reads bodies of several chunks as JSON.parse does", () => {
  const r = random(7);
  const lines: string[] = [];
  // More documents than one chunk's records (4096) and more bytes than its input (1 MiB).
  for (let i = 0; i < 6000; i++) {
    lines.push(i % 1000 === 0 ? '{"index":{"_index":"logs"}}' : '{"create":{}}');
    lines.push(shipperDocument(r).replace(/}$/, `,"pad":"${"p".repeat(r.int(300))}"}`));
  }
  const bytes = new TextEncoder().encode(lines.join("\n"));
  assert.ok(bytes.length > 1024 * 1024);
  const fast = scanBulk(chunked(bytes), header);
  assert.notEqual(fast, undefined);
  assert.deepEqual(fast, parseBulk(bytes, header));
});

Deno.test("the scanner leaves a line longer than its input to JSON.parse", () => {
  const long = `{"message":"${"m".repeat(1024 * 1024 + 10)}"}`;
  const bytes = new TextEncoder().encode(`{"create":{}}\n${long}\n`);
  assert.equal(scanBulk(chunked(bytes), header), undefined);
  const { items, payload } = decodeEsBulk(bytes, header);
  assert.equal(items[0].create.status, 201);
  assert.equal(payload!.streams[0].lines[0].length, 1024 * 1024 + 10);
});

Deno.test("the scanner's path counts actions up to the limit as JSON.parse does", () => {
  const pairs = (n: number) => Array.from({ length: n }, () => '{"create":{}}\n{"message":"m"}');
  for (
    const lines of [
      pairs(MAX_BULK_DOCUMENTS),
      pairs(MAX_BULK_DOCUMENTS + 1),
      [...pairs(MAX_BULK_DOCUMENTS), '{"bogus":{}}'],
      [...pairs(MAX_BULK_DOCUMENTS), '{"index":{}}', '{"message":"m"}'],
      [...pairs(MAX_BULK_DOCUMENTS), '{"create":{}}'],
      [...pairs(MAX_BULK_DOCUMENTS + 1), "garbage"],
    ]
  ) {
    const bytes = new TextEncoder().encode(lines.join("\n"));
    const fast = outcome(() => scanBulk(chunked(bytes), header));
    assert.ok(!("answer" in fast) || fast.answer !== undefined);
    assert.deepEqual(fast, outcome(() => parseBulk(bytes, header)));
  }
});

Deno.test("the scanner's path keeps a leading U+FEFF of a value", () => {
  for (
    const text of [
      '{"create":{}}\n{"message":"\\ufeffhi"}\n',
      '{"create":{}}\n{"app":"\\ufeffweb","message":"hi"}\n',
      '{"create":{}}\n{"message":"\\ufeffhi","pid":7}\n',
      '{"create":{}}\n{"message":"\ufeffhi"}\n',
    ]
  ) {
    const bytes = new TextEncoder().encode(text);
    const fast = scanBulk(chunked(bytes), header);
    assert.notEqual(fast, undefined);
    assert.deepEqual(fast, parseBulk(bytes, header), text);
  }
});

Deno.test("the scanner's path keeps streams apart when its slots start afresh within a body", () => {
  // Label sets big enough to fill the slot table's keys, then a second chunk.
  const text = Array.from(
    { length: 17 },
    (_, i) => `{"create":{}}\n{"app":"${i}${"a".repeat(2000)}","message":"m${i}"}\n`,
  ).join("") + `{"create":{}}\n{"app":"b","message":"${"x".repeat(1_020_000)}"}\n`;
  const bytes = new TextEncoder().encode(text);
  // A mapping of its own, so its scanner's slots start empty whatever ran before.
  const own = { ...header, streamFields: ["app"] };
  const fast = scanBulk(chunked(bytes), own);
  assert.notEqual(fast, undefined);
  assert.deepEqual(fast, parseBulk(bytes, own));
});

Deno.test("the scanner's path refuses invalid UTF-8 in a later chunk before a bad action", () => {
  const text = new TextEncoder().encode(
    `nope\n{"create":{}}\n{"message":"${"x".repeat(1_100_000)}"}\n{"create":{}}\n{"m":"`,
  );
  const bytes = new Uint8Array([...text, 0xff, ...new TextEncoder().encode('"}\n')]);
  assert.deepEqual(
    outcome(() => scanBulk(chunked(bytes), header)),
    outcome(() => parseBulk(bytes, header)),
  );
  assert.match(JSON.stringify(outcome(() => decodeEsBulk(bytes, header))), /not valid/);
});

Deno.test("the scanner's path answers bodies whose every action line differs as JSON.parse does", () => {
  const text = Array.from(
    { length: 3000 },
    (_, i) =>
      `{"${i % 3 ? "create" : "index"}":{"_index":"logs","_id":"${i}"}}\n{"message":"m${i}"}`,
  ).join("\n");
  const bytes = new TextEncoder().encode(text);
  const fast = scanBulk(chunked(bytes), header);
  assert.notEqual(fast, undefined);
  assert.deepEqual(fast, parseBulk(bytes, header));
});
