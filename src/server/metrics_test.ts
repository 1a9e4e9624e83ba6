import assert from "node:assert/strict";
import { renderMetrics, RequestMetrics } from "./metrics.ts";
import { NO_INGEST } from "../ingest/no_ingest.ts";

Deno.test("RequestMetrics: label values are escaped as the text format asks", () => {
  const requests = new RequestMetrics();
  requests.observe('/a"b\\c\nd', "GET", 404, 0.002);
  assert.match(
    requests.render(),
    /^loge_http_requests_total\{route="\/a\\"b\\\\c\\nd",method="GET",code="404"\} 1$/m,
  );
});

Deno.test("RequestMetrics: latency buckets are cumulative and end in +Inf with the count", () => {
  const requests = new RequestMetrics();
  for (const seconds of [0.0005, 0.003, 0.003, 0.2, 90]) {
    requests.observe("/r", "GET", 200, seconds);
  }
  const text = requests.render();
  const bucket = (le: string) =>
    Number(
      new RegExp(`_bucket\\{route="/r",le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(text)![1],
    );
  assert.equal(bucket("0.001"), 1);
  assert.equal(bucket("0.005"), 3);
  assert.equal(bucket("0.25"), 4);
  assert.equal(bucket("60"), 4);
  assert.equal(bucket("+Inf"), 5);
  assert.match(text, /^loge_http_request_duration_seconds_count\{route="\/r"\} 5$/m);
});

Deno.test("renderMetrics: stats figures by their dotted paths; absent ones are 0", () => {
  const text = renderMetrics({
    requests: new RequestMetrics(),
    ingester: NO_INGEST,
    segmentCache: { hits: 3, misses: 1, bytes: 4096 },
    stats: {
      segments_local: 4,
      bytes_remote: 10n,
      compaction: { running: true, last_pass: { duration_ms: 1500 } },
      cold_tier: null,
      harvesters: [
        { harvester: 'syslog udp://0.0.0.0:5514 "x"', lines: 7, malformed: 1, dropped: 2 },
        { harvester: "file /var/log/*.log", lines: 3, refused: 0 },
      ],
    },
  });
  assert.match(text, /^loge_segments\{location="local"\} 4$/m);
  assert.match(text, /^loge_segment_bytes\{location="remote"\} 10$/m);
  assert.match(text, /^loge_compaction_running 1$/m);
  assert.match(text, /^loge_compaction_last_pass_duration_seconds 1\.5$/m);
  assert.match(text, /^loge_s3_uploads_total 0$/m);
  assert.match(text, /^loge_segment_cache_hits_total 3$/m);
  assert.doesNotMatch(text, /loge_wal_fsync_duration_seconds/); // not durable: no WAL
  assert.match(
    text,
    /^loge_harvester_lines_total\{harvester="syslog udp:\/\/0\.0\.0\.0:5514 \\"x\\""\} 7$/m,
  );
  assert.match(text, /^loge_harvester_dropped_total\{harvester="syslog[^}]*\} 2$/m);
  assert.match(text, /^loge_harvester_refused_total\{harvester="file \/var\/log\/\*\.log"\} 0$/m);
  assert.match(text, /^loge_harvester_failed_total\{harvester="file[^}]*\} 0$/m);
});

Deno.test("renderMetrics: no harvester families without harvesters", () => {
  const text = renderMetrics({ requests: new RequestMetrics(), ingester: NO_INGEST, stats: {} });
  assert.doesNotMatch(text, /loge_harvester_/);
});

Deno.test("RequestMetrics: unknown methods share one series, so clients cannot grow them", () => {
  const requests = new RequestMetrics();
  for (let i = 0; i < 100; i++) requests.observe("unmatched", `X${i}`, 405, 0.001);
  requests.observe("unmatched", "GET", 404, 0.001);
  const text = requests.render();
  assert.match(
    text,
    /^loge_http_requests_total\{route="unmatched",method="other",code="405"\} 100$/m,
  );
  assert.equal(text.match(/^loge_http_requests_total\{/gm)!.length, 2);
});
