/**
 * `GET /api/v1/search/plan`: the server's half of a client-side search
 * (`loge search --local`). The server answers the query over its hot tier
 * (the head and local files) and lists the cold segments the catalog cannot
 * rule out, each with a presigned URL, for the client to read itself:
 *
 * ```json
 * {"status":"success","hot":[…],"segments":[{"id":"…","url":"…","bytes":N}],"expires_at":1700000900}
 * ```
 *
 * `hot` holds entries exactly as `POST /api/v1/query`'s `data`. When
 * `--max-response-size` cut the hot lines short, `cut` is the first hot line
 * left out, in the same shape: the client's answer stops before it. The query's
 * parameters (`query`, `start`, `end`, `limit`, `direction`, `line`) are
 * those of its body, as URL parameters, parsed by the same code.
 *
 * @module
 */

import type { QueryEngine } from "../query/engine.ts";
import { ObjectStoreError } from "../tier/object_store.ts";
import { HttpError } from "./errors.ts";
import { entryJson } from "./read.ts";
import { toLogQuery } from "./read_request.ts";
import { json } from "./respond.ts";

/** The parameters of `POST /api/v1/query`'s body that a plan takes from its URL. */
const PARAMS = ["query", "start", "end", "limit", "direction", "line"] as const;

/** What a search plan needs besides the engine. */
export interface SearchPlanOptions {
  /**
   * A URL that reads cold file `name` (its catalog name) without credentials
   * for `expirySeconds`, ranged reads included; absent without a cold tier.
   */
  presign?: (name: string, expirySeconds: number) => Promise<string>;
  /** How long the URLs stay valid (`--s3-presign-expiry`). */
  expirySeconds: number;
}

/** One cold segment of a plan: its catalog name, presigned URL and size. */
export interface PlanSegment {
  id: string;
  url: string;
  bytes: number;
}

/**
 * `GET /api/v1/search/plan`: the query's lines over the hot tier, and the
 * presigned cold segments that may hold more. `expires_at` (unix seconds)
 * is taken before signing, so no URL expires before it.
 *
 * @throws {QueryError} for a bad parameter (400).
 * @throws {HttpError} 503 when the URLs cannot be presigned.
 */
export async function handleSearchPlan(
  req: Request,
  engine: QueryEngine,
  options: SearchPlanOptions,
): Promise<Response> {
  const params = new URL(req.url).searchParams;
  const query = toLogQuery(
    Object.fromEntries(PARAMS.map((name) => [name, params.get(name) ?? undefined])),
  );
  const { presign, expirySeconds } = options;
  const expiresAt = Math.floor(Date.now() / 1000) + expirySeconds;
  const { entries, warnings, cold, cut } = await engine.selectHot(query);
  let segments: PlanSegment[] = [];
  if (presign) {
    try {
      segments = await Promise.all(cold.map(async (e) => ({
        id: e.name,
        url: await presign(e.name, expirySeconds),
        bytes: e.bytes,
      })));
    } catch (error) {
      if (!(error instanceof ObjectStoreError)) throw error;
      throw new HttpError(503, `cannot presign the cold segments: ${error.message}`, {}, {
        "retry-after": "5",
      });
    }
  } else if (cold.length > 0) {
    warnings.push(
      `${cold.length} cold segments may hold lines of the query, ` +
        "but this server has no cold tier to presign them (start it with --s3-bucket)",
    );
  }
  return json({
    status: "success",
    hot: entries.map(entryJson),
    ...(cut ? { cut: entryJson(cut) } : {}),
    segments,
    expires_at: expiresAt,
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}
