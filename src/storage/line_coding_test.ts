import assert from "node:assert/strict";
import { codeLines, decodeLines, lineEnds } from "./line_coding.ts";
import { Rng } from "../../testing/prng.ts";

const enc = new TextEncoder();

/** Deterministic pseudo-random integers in [0, n). */
function rng(seed: number) {
  const generator = Object.assign(new Rng(), { state: seed });
  return (n: number) => generator.below(n);
}

function roundTrip(bytes: Uint8Array, ts?: bigint[]) {
  const { text, ids } = codeLines(bytes, ts);
  assert.deepEqual(decodeLines(text, ids, ts), bytes);
  assert.deepEqual(decodeLines(text, ids, ts, bytes.length), bytes);
  return { text, ids };
}

Deno.test("random lines of hex, dashes, marks and other bytes come back exactly", () => {
  const random = rng(12345);
  // Pieces that meet the coder's edges: runs around 8, 16 and 127 bytes, UUID look-alikes.
  const pieces = [
    "0123456789abcdef",
    "deadbeef",
    "-",
    "\u0001",
    "\u0000",
    "ABCDEF",
    "g",
    " ",
    "\n",
    "é",
    "😀",
    "6a8ec3aab898ae608aa7225fdc44a737",
    "46e2574b-588a-4d54-a925-da7668a257c4",
    "46e2574b-588a-4d54-a925-da7668a257c",
    "46E2574B-588A-4D54-A925-DA7668A257C4",
    "f",
  ];
  let coded = 0;
  for (let n = 0; n < 3000; n++) {
    let s = "";
    const parts = random(40);
    for (let p = 0; p < parts; p++) {
      const piece = pieces[random(pieces.length)];
      s += random(4) === 0 ? piece.repeat(1 + random(20)) : piece;
    }
    coded += roundTrip(enc.encode(s)).ids.length;
  }
  assert.ok(coded > 10_000, `ids coded: ${coded}`);
  // Raw random bytes, invalid UTF-8 included.
  for (let n = 0; n < 500; n++) {
    const b = new Uint8Array(random(600));
    for (let i = 0; i < b.length; i++) b[i] = random(4) === 0 ? 0x01 : random(256);
    roundTrip(b);
  }
});

Deno.test("hex runs of 16 digits or more and lowercase UUIDs go to ids; the rest stays text", () => {
  const cases: [string, number][] = [
    ["x".repeat(3), 0],
    ["a".repeat(15), 0], // too short
    ["a".repeat(16), 8],
    ["a".repeat(17), 8], // the odd digit stays text
    ["a".repeat(254), 127],
    ["a".repeat(256), 127], // 127 + 1 left: under 8 bytes, stays text
    ["a".repeat(300), 150], // 127 + 23
    ["46e2574b-588a-4d54-a925-da7668a257c4", 16],
    ["46E2574B-588A-4D54-A925-DA7668A257C4", 0], // uppercase is not coded
    ["46e2574b-588a-4d54-a925-da7668a257c", 0], // one digit short
  ];
  for (const [s, idBytes] of cases) {
    const { ids } = roundTrip(enc.encode(`k=${s};`));
    assert.equal(ids.length, idBytes, s.slice(0, 40));
  }
});

Deno.test("a damaged column is refused, not decoded into other lines", () => {
  const { text, ids } = codeLines(enc.encode("id=6a8ec3aab898ae608aa7225fdc44a737"));
  assert.throws(() => decodeLines(text, ids.subarray(1)), /ids column ends early/);
  assert.throws(() => decodeLines(text, new Uint8Array([...ids, 0])), /ids left over/);
  assert.throws(() => decodeLines(new Uint8Array([0x41, 0x01, 0x05]), ids), /unknown mark/);
  assert.throws(() => decodeLines(new Uint8Array([0x41, 0x01]), ids), /mark cut short/);
  assert.throws(() => decodeLines(text, ids, [], 10), /more bytes than were written/);
  assert.throws(() => decodeLines(text, ids, [], 40), /35 bytes where 40 were written/);
  assert.throws(() => decodeLines(text, ids, [], 100), /100 bytes cannot come from 5 of text/);
});

// Times. Expected texts are made here with Date, not with the coder's calendar.

const NS_PER_S = 1_000_000_000n;
const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

/** Zones: their offsets in minutes, as ±hh:mm and ±hhmm. */
function zoneText(minutes: number, colon: boolean): string {
  const a = Math.abs(minutes);
  const hh = String(Math.floor(a / 60)).padStart(2, "0");
  const mm = String(a % 60).padStart(2, "0");
  return `${minutes < 0 ? "-" : "+"}${hh}${colon ? ":" : ""}${mm}`;
}

/** How a time may be written: its text for the instant `ns` (unix ns). */
type Layout = (ns: bigint) => string;

function isoLayout(digits: number, space: boolean, comma: boolean, zone: string): Layout {
  return (ns) => {
    const seconds = ns / NS_PER_S - (ns % NS_PER_S < 0n ? 1n : 0n);
    const nanos = ns - seconds * NS_PER_S;
    const offset = zone === "" || zone === "Z" ? 0 : Number(zone);
    const local = new Date(Number(seconds + BigInt(offset * 60)) * 1000).toISOString();
    const fraction = digits
      ? (comma ? "," : ".") + String(nanos).padStart(9, "0").slice(0, digits)
      : "";
    const zoneSuffix = zone === "" || zone === "Z" ? zone : zoneText(offset, digits % 2 === 0);
    return `${local.slice(0, 10)}${space ? " " : "T"}${
      local.slice(11, 19)
    }${fraction}${zoneSuffix}`;
  };
}

function clfLayout(offset: number): Layout {
  return (ns) => {
    const seconds = ns / NS_PER_S - (ns % NS_PER_S < 0n ? 1n : 0n);
    const d = new Date(Number(seconds + BigInt(offset * 60)) * 1000);
    const day = String(d.getUTCDate()).padStart(2, "0");
    const month = MONTHS.slice(d.getUTCMonth() * 3, d.getUTCMonth() * 3 + 3);
    const clock = d.toISOString().slice(11, 19);
    return `${day}/${month}/${d.getUTCFullYear()}:${clock} ${zoneText(offset, false)}`;
  };
}

const LAYOUTS: Layout[] = [
  isoLayout(6, false, false, "Z"),
  isoLayout(3, true, true, ""),
  isoLayout(9, false, false, "Z"),
  isoLayout(0, false, false, "Z"),
  isoLayout(0, true, false, ""),
  isoLayout(2, false, false, "330"), // +05:30
  isoLayout(1, false, false, "-420"), // -0700
  isoLayout(7, true, false, "-600"),
  clfLayout(0),
  clfLayout(-300),
  clfLayout(345),
];

/** 1900-01-01 and 2200-01-01 in unix seconds: the years a time is coded in. */
const FIRST_SECOND = -2_208_988_800;
const PAST_LAST_SECOND = 7_258_118_400;

Deno.test("times in lines come back exactly, each coded against its line's timestamp", () => {
  const generator = Object.assign(new Rng(), { state: 777 });
  const random = (n: number) => generator.below(n);
  let timesCoded = 0;
  for (let n = 0; n < 400; n++) {
    const lines: string[] = [];
    const ts: bigint[] = [];
    const written: string[] = [];
    for (let k = 1 + random(30); k > 0; k--) {
      // An instant well inside the years coded, to the nanosecond.
      const seconds = generator.range(FIRST_SECOND + 86_400, PAST_LAST_SECOND - 86_400);
      const instant = BigInt(seconds) * NS_PER_S + BigInt(random(1_000_000_000));
      // The line's timestamp: the same instant, or near it, or anywhere at all.
      const choice = random(4);
      ts.push(
        choice === 0
          ? instant
          : choice === 1
          ? instant + BigInt(generator.range(-5_000_000, 5_000_000))
          : choice === 2
          ? instant + BigInt(generator.range(-86_400, 86_400)) * NS_PER_S
          : BigInt.asIntN(64, BigInt(generator.u32()) << BigInt(random(33))) *
            (random(2) ? 1n : -1n),
      );
      const time = generator.pick(LAYOUTS)(instant);
      written.push(time);
      const around = ["", " ", '"', "[", "ts=", "\u0001", "0", "é"];
      lines.push(`${generator.pick(around)}${time}${generator.pick(around)} msg=${k}`);
    }
    const bytes = enc.encode(lines.map((line) => line + "\n").join(""));
    const { text } = roundTrip(bytes, ts);
    const latin1 = new TextDecoder("latin1").decode(text);
    for (const time of written) {
      // A time preceded by a digit is part of a longer number, not coded.
      if (!latin1.includes(time)) timesCoded++;
    }
  }
  assert.ok(timesCoded > 4000, `times coded: ${timesCoded}`);
});

Deno.test("a time that repeats its line's timestamp to its last digit takes five to seven bytes", () => {
  const ts = 1_764_600_668_754_725_751n; // 2025-12-01T14:51:08.754725751Z
  const cases: [string, number][] = [
    // The mark, the lines since the last time's line, the layout, the difference.
    ["2025-12-01T14:51:08.754725Z", 5],
    ["2025-12-01T14:51:08.754725751Z", 5],
    ["2025-12-01T14:51:08Z", 5],
    ["2025-12-01 14:51:08,754", 5],
    ["2025-12-01T20:21:08.754+05:30", 7], // an offset of 330 minutes takes 2 bytes
    ["2025-12-01T07:51:08-0700", 7],
    ["2025-12-01T15:51:08.7+01:00", 6], // 60 minutes, 1 byte
    ["01/Dec/2025:14:51:08 +0000", 5], // no layout byte; an offset of 0
    ["01/Dec/2025:09:51:08 -0500", 6],
  ];
  for (const [time, marked] of cases) {
    const line = enc.encode(`at=${time} ok\n`);
    const { text, ids } = roundTrip(line, [ts]);
    assert.equal(ids.length, 0);
    assert.equal(text.length, "at= ok\n".length + marked, time);
  }
  // A second off costs a byte more, not the digits.
  const { text } = roundTrip(enc.encode("at=2025-12-01T14:51:09Z\n"), [ts]);
  assert.equal(text.length, "at=\n".length + 5);
  // Without timestamps, times stay as they are.
  assert.equal(codeLines(enc.encode("at=2025-12-01T14:51:08Z\n")).text.length, 24);
});

Deno.test("what does not read back as written is not coded as a time", () => {
  const ts = [1_764_600_668_754_725_751n];
  for (
    const time of [
      "2025-02-30T00:00:00Z", // no such day
      "2025-02-29T00:00:00Z", // not a leap year
      "2025-13-01T00:00:00Z",
      "2025-12-01T24:00:00Z",
      "2025-12-01T14:60:00Z",
      "2025-12-01T14:51:60Z", // a leap second
      "2025-12-01t14:51:08Z",
      "2025-12-01T14:51:08-00:00", // the zone would come back as +00:00
      "1899-12-31T23:59:59Z",
      "2200-01-01T00:00:00Z",
      "01/dec/2025:14:51:08 +0000",
      "01/Dec/2025:14:51:08",
      "01/Dec/2025:14:51:08 +2400",
      "32/Dec/2025:14:51:08 +0000",
      "2025-1-01T00:00:00Z",
      "a2025-12-01T14:51:08Z", // a longer hex run
    ]
  ) {
    const line = enc.encode(`${time}\n`);
    const { text } = roundTrip(line, ts);
    assert.deepEqual(text, line, time);
  }
  // Leap days and the edges of the years coded are coded (far from the
  // line's timestamp: their differences take 4 to 6 bytes).
  for (const time of ["2024-02-29T12:00:00Z", "1900-01-01T00:00:00Z", "2199-12-31T23:59:59Z"]) {
    const line = enc.encode(`${time}\n`);
    assert.ok(roundTrip(line, ts).text.length <= 10, time);
  }
});

Deno.test("a time mark past the last line, or cut short, is refused", () => {
  const line = enc.encode("2025-12-01T14:51:08Z\n2025-12-01T14:51:09Z\n");
  const ts = [1_764_600_668_000_000_000n, 1_764_600_669_000_000_000n];
  const { text, ids } = codeLines(line, ts);
  assert.equal(text.length, 12);
  assert.throws(() => decodeLines(text, ids, ts.slice(0, 1)), /a time past the last line/);
  assert.throws(() => decodeLines(text.subarray(0, 3), ids, ts), /mark cut short/);
  assert.throws(() => decodeLines(text.subarray(0, 10), ids, ts), /mark cut short/);
  // A length no text of this size gives is refused before memory is taken for it.
  assert.throws(
    () => decodeLines(text, ids, ts, 1e9),
    /1000000000 bytes cannot come from 12 of text and 0 of ids/,
  );
  // A difference that takes the time far out of the years coded (found by a
  // fuzzer: a common log format time, offset -49, a difference of -2^63).
  const far = Uint8Array.of(
    1,
    0x82,
    0,
    97,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    1,
  );
  assert.throws(() => decodeLines(far, new Uint8Array(), [0n]), /a time out of range/);
});

Deno.test("lineEnds finds the newlines a byte search finds, at any offset of a 16-byte chunk", () => {
  const below = rng(20261202);
  for (let n = 0; n < 2000; n++) {
    const bytes = new Uint8Array(below(300));
    for (let i = 0; i < bytes.length; i++) bytes[i] = below(4) === 0 ? 0x0a : 0x20 + below(200);
    const expected: number[] = [];
    for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) expected.push(at);
    const count = below(expected.length + 1);
    assert.deepEqual([...lineEnds(bytes, count)], expected.slice(0, count));
    assert.throws(() => lineEnds(bytes, expected.length + 1), /Block truncated/);
  }
});
