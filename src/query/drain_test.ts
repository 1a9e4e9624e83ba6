import assert from "node:assert/strict";
import { Drain, PLACEHOLDER } from "./drain.ts";

/** A template as an anchored regex: its text, `<_>` matching anything. */
const matcher = (pattern: string) =>
  new RegExp(
    `^${
      pattern.split(PLACEHOLDER).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")
    }$`,
    "s",
  );

function mine(lines: string[]): Drain {
  const drain = new Drain({ remaining: 1000 });
  for (const line of lines) drain.train(line);
  return drain;
}

Deno.test("lines that differ in a few tokens share a template that matches each of them", () => {
  const cases: string[][] = [
    ["test 1 test test", "test 2 test test", "test 3 test test", "test 4 test test"],
    ["\t\ttest 1 test test  ", "\t\ttest 2 test test  "],
    Array.from(
      { length: 8 },
      (_, i) =>
        `ts=2024-05-30T12:50:36.${i}48377186Z caller=scheduler_processor.go:143 level=warn ` +
        `msg="error contacting scheduler" err="rpc error: code = Unavailable" addr=10.0.151.${i}:9095`,
    ),
  ];
  for (const lines of cases) {
    const drain = mine(lines);
    assert.equal(drain.clusters.length, 1, lines[0]);
    const [cluster] = drain.clusters;
    assert.equal(cluster.size, lines.length);
    for (const line of lines) assert.match(line, matcher(cluster.pattern));
  }
  assert.equal(
    mine(["test 1 test test", "test 2 test test"]).clusters[0].pattern,
    "test <_> test test",
  );
});

Deno.test("templates keep what all their lines share: spacing, punctuation, fixed words", () => {
  const drain = mine([
    'level=info msg="GET /api/users 200" duration=12ms',
    'level=info msg="GET /api/users 200" duration=250ms',
    'level=info msg="GET /api/users 200" duration=3ms',
  ]);
  assert.deepEqual(drain.clusters.map((c) => c.pattern), [
    'level=info msg="GET /api/users 200" duration=<_>',
  ]);
});

Deno.test("different messages make different templates; words differing early split them, as in Loki", () => {
  const drain = mine([
    "user 17 logged in from 10.0.0.1",
    "user 18 logged in from 10.0.0.2",
    "payment 77 failed: card declined",
    "payment 78 failed: card expired",
    "connection reset by peer 1 2 3",
    "connection reset by peer 4 5 6",
    // A word where the tree has a wildcard path (made by "17") takes it, and joins.
    "user alice logged in from 10.0.0.1",
    // The tree follows words without digits: with no wildcard there, these stay apart.
    "login ok for alice today",
    "login ok for bob today",
  ]);
  assert.deepEqual(drain.clusters.map((c) => [c.pattern, c.size]).sort(), [
    ["connection reset by peer <_> <_> <_>", 2],
    ["login ok for alice today", 1],
    ["login ok for bob today", 1],
    ["payment <_> failed: card <_>", 2],
    ["user <_> logged in from <_>", 3],
  ]);
});

Deno.test("JSON lines are mined by their message field, their template wrapped in <_>", () => {
  const lines = [
    '{"level":"info","msg":"12 cache misses for key 1","ts":1}',
    '{"level":"info","msg":"7 cache misses for key 2","ts":2}',
  ];
  const drain = mine([...lines, '{"level":"info","ts":3}']);
  // Runs of <_> read as one: "<_>" + "<_> cache misses for key <_>" + "<_>".
  assert.deepEqual(drain.clusters.map((c) => [c.pattern, c.size]), [
    ["<_> cache misses for key <_>", 2],
  ]);
  for (const line of lines) assert.match(line, matcher(drain.clusters[0].pattern));
});

Deno.test("too short, too long and too many tokens are skipped; the budget bounds the clusters", () => {
  const drain = new Drain({ remaining: 2 });
  assert.equal(drain.train("only three tokens"), undefined);
  assert.equal(drain.train("x ".repeat(1600)), undefined);
  assert.equal(drain.train(Array.from({ length: 81 }, (_, i) => `w${i}`).join(" ")), undefined);
  assert.ok(drain.train("alpha beta gamma delta"));
  assert.ok(drain.train("one two three four five"));
  // The budget is spent: a new template is not made, a matching line still joins.
  assert.equal(drain.train("six seven eight nine ten eleven"), undefined);
  assert.equal(drain.train("alpha beta gamma epsilon")?.pattern, "alpha beta gamma <_>");
  assert.equal(drain.clusters.length, 2);
});

Deno.test("a count per key accumulates what each line adds", () => {
  const drain = new Drain({ remaining: 10 });
  drain.train("job 1 finished in time")?.count(5, 1);
  drain.train("job 2 finished in time")?.count(5, 2);
  drain.train("job 3 finished in time")?.count(6, 1);
  assert.deepEqual([...drain.clusters[0].counts], [[5, 3], [6, 1]]);
});
