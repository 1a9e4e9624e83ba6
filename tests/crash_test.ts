/**
 * SIGKILL the server under mixed load (every push format and route, queries,
 * flushes and compactions), damage the stopped folder between some cycles,
 * and prove that every acknowledged line is stored exactly once except what
 * the damage destroyed, and that no request got a 5xx: a short run of
 * `deno task chaos` (`bench/chaos.ts`). `LOGE_CRASH_ROUNDS` sets the cycles.
 */
import assert from "node:assert/strict";
import { chaosPassed, formatChaos, runChaos } from "../bench/chaos.ts";

const ROUNDS = Number(Deno.env.get("LOGE_CRASH_ROUNDS") ?? "4");

Deno.test(`acknowledged lines survive SIGKILL and damage exactly once (${ROUNDS} cycles)`, async () => {
  // Damage after the second and fourth cycles: a torn WAL tail, then a flipped catalog byte.
  const report = await runChaos({ cycles: ROUNDS, damageEvery: 2, seed: 20261130, s3: true });
  assert.ok(chaosPassed(report), formatChaos(report));
  assert.ok(Object.values(report.pushes).every((n) => n > 0), formatChaos(report));
  // Neither a torn WAL tail nor a catalog rebuilt from the files may lose more than one push.
  assert.ok(report.lost <= 40, formatChaos(report));
});
