/**
 * The routes Grafana's Explore and Logs Drilldown need beyond queries and
 * label discovery, under `/loki/api/v1/`: `index/volume`,
 * `index/volume_range` (`volume.ts`), `detected_labels`, `detected_fields`,
 * `detected_field/<name>/values`, `drilldown-limits` (`drilldown.ts`) and
 * `patterns` (`patterns.ts`). `lokiRoutes` serves them like its own.
 *
 * @module
 */

import type { QueryEngine } from "../../query/engine.ts";
import type { PatternQuery, Patterns } from "../../query/patterns.ts";
import type { VolumeQuery, VolumeSeries } from "../../query/volume.ts";
import {
  handleDetectedFields,
  handleDetectedFieldValues,
  handleDetectedLabels,
  handleDrilldownLimits,
} from "./drilldown.ts";
import { pathSegment } from "./params.ts";
import { handlePatterns } from "./patterns.ts";
import type { LokiHandler } from "./routes.ts";
import { handleVolume, handleVolumeRange } from "./volume.ts";

/** What the routes ask of the query engine. */
export type DrilldownEngine = Pick<QueryEngine, "select" | "series"> & {
  volumes(query: VolumeQuery): Promise<VolumeSeries[]>;
  patterns(query: PatternQuery): Promise<Patterns>;
};

/**
 * The routes as `[path under /loki/api/v1/, handler, reads data]`; `now`
 * gives the time in nanoseconds, from which default windows count back.
 *
 * @example
 * ```ts
 * import { drilldownRoutes } from "./drilldown_routes.ts";
 * import type { QueryEngine } from "../../query/engine.ts";
import type { PatternQuery, Patterns } from "../../query/patterns.ts";
import type { VolumeQuery, VolumeSeries } from "../../query/volume.ts";
 * import assert from "node:assert/strict";
 * const routes = drilldownRoutes({} as QueryEngine, () => 0n);
 * assert.ok(routes.some(([path]) => path === "detected_field/:name/values"));
 * const [, limits, readsData] = routes.find(([path]) => path === "drilldown-limits")!;
 * assert.equal(readsData, false);
 * assert.equal((await limits(new Request("http://x"), {})).status, 200);
 * ```
 */
export function drilldownRoutes(
  engine: DrilldownEngine,
  now: () => bigint,
): [string, LokiHandler, boolean][] {
  return [
    ["index/volume", (req) => handleVolume(req, (q) => engine.volumes(q), now()), true],
    ["index/volume_range", (req) => handleVolumeRange(req, (q) => engine.volumes(q), now()), true],
    ["detected_labels", (req) => handleDetectedLabels(req, engine, now()), true],
    ["detected_fields", (req) => handleDetectedFields(req, engine, now()), true],
    [
      "detected_field/:name/values",
      (req, p) => handleDetectedFieldValues(req, engine, now(), pathSegment(p.name!, "field name")),
      true,
    ],
    ["patterns", (req) => handlePatterns(req, (q) => engine.patterns(q), now()), true],
    ["drilldown-limits", () => handleDrilldownLimits(), false],
  ];
}
