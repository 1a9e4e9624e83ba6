import assert from "node:assert/strict";
import { parseSyslog, SyslogFramer } from "./syslog.ts";

Deno.test("parseSyslog: RFC 5424 with structured data, a BOM, nil fields", () => {
  assert.deepEqual(
    parseSyslog('<165>1 2026-11-30T10:00:00+01:00 - - - - [a b="c\\]d"][e] \uFEFFhello', {}, 7n),
    { labels: { facility: "local4", level: "notice" }, ts: 1796029200000000000n, line: "hello" },
  );
  // No message, no time: the arrival time.
  assert.deepEqual(parseSyslog("<0>1 - h a p m -", { x: "y" }, 7n), {
    labels: { x: "y", app: "a", host: "h", facility: "kern", level: "emerg" },
    ts: 7n,
    line: "",
  });
});

Deno.test("parseSyslog: RFC 3164 with and without a pid, in the current year", () => {
  const year = new Date().getUTCFullYear();
  const m = parseSyslog("<30>Feb  3 04:05:06 box dhcpd: lease renewed", {}, 0n);
  assert.deepEqual(m, {
    labels: { app: "dhcpd", host: "box", facility: "daemon", level: "info" },
    ts: BigInt(Date.UTC(year, 1, 3, 4, 5, 6)) * 1_000_000n,
    line: "lease renewed",
  });
  assert.equal(
    (parseSyslog("<30>Feb 13 04:05:06 box su[9]: ok", {}, 0n) as { line: string }).line,
    "ok",
  );
});

Deno.test("parseSyslog: what is not syslog says why", () => {
  assert.equal(parseSyslog("hello", {}, 0n), "neither RFC 5424 nor RFC 3164");
  assert.equal(parseSyslog("<192>1 - - - - - -", {}, 0n), "priority 192 is over 191");
  assert.match(String(parseSyslog("<1>1 yesterday h a p m -", {}, 0n)), /bad RFC 5424 timestamp/);
  assert.match(String(parseSyslog("<1>Foo  3 04:05:06 box a: b", {}, 0n)), /bad RFC 3164 month/);
});

Deno.test("SyslogFramer: frames split anywhere come out whole", () => {
  const messages = [
    "<1>1 - a b c d - one",
    "<2>Nov 30 10:00:00 h t: two",
    "<3>1 - a b c d - three",
  ];
  const stream = `${messages[0].length} ${messages[0]}${messages[1]}\n${messages[2].length} ${
    messages[2]
  }`;
  for (let cut = 1; cut < stream.length; cut++) {
    const framer = new SyslogFramer();
    assert.deepEqual(
      [...framer.push(stream.slice(0, cut)), ...framer.push(stream.slice(cut))],
      messages,
    );
  }
});
