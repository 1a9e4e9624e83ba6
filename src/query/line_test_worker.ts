/**
 * Worker: tests lines with line filters, for scans that leave a line too
 * costly to test on the event loop (`LineMatcher.costly` in `line_scan.ts`). The
 * filters of a job are compiled once for all the jobs that bring them.
 *
 * @module
 */

import type { LineFilter } from "./ast.ts";
import { compileLineFilters } from "./matchers.ts";
import { serveJobs } from "../storage/worker_pool.ts";

/** A line to test, and the filters to test it with. */
export interface LineTestJob {
  filters: readonly LineFilter[];
  line: string;
}

let compiled: { key: string; test: (line: string) => boolean } | undefined;

/** Whether `job.line` passes every filter of `job.filters`. */
export function testLine(job: LineTestJob): boolean {
  const key = JSON.stringify(job.filters);
  if (compiled?.key !== key) {
    compiled = { key, test: compileLineFilters(job.filters)?.test ?? (() => true) };
  }
  return compiled.test(job.line);
}

if (import.meta.main) serveJobs(testLine);
