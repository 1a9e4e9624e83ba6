/**
 * The web UI's files, embedded in the binary by static text imports (never
 * read from the repository at run time), with their content types. `/` is
 * the page; everything else is under `/assets/`. The page carries the
 * server's settings it needs (the query limits) as `{{NAME}}` placeholders,
 * filled once when the table is built.
 *
 * @module
 */

import page from "../../web/index.html" with { type: "text" };
import style from "../../web/style.css" with { type: "text" };
import apiJs from "../../web/js/api.js" with { type: "text" };
import domJs from "../../web/js/dom.js" with { type: "text" };
import durationJs from "../../web/js/duration.js" with { type: "text" };
import eventStreamJs from "../../web/js/event_stream.js" with { type: "text" };
import histogramJs from "../../web/js/histogram.js" with { type: "text" };
import labelsJs from "../../web/js/labels.js" with { type: "text" };
import mainJs from "../../web/js/main.js" with { type: "text" };
import queryTextJs from "../../web/js/query_text.js" with { type: "text" };
import resultsJs from "../../web/js/results.js" with { type: "text" };
import runJs from "../../web/js/run.js" with { type: "text" };
import stateJs from "../../web/js/state.js" with { type: "text" };
import statusJs from "../../web/js/status.js" with { type: "text" };
import tailJs from "../../web/js/tail.js" with { type: "text" };
import timeJs from "../../web/js/time.js" with { type: "text" };
import viewUrlJs from "../../web/js/view_url.js" with { type: "text" };
import { HttpError } from "./errors.ts";

const HTML = "text/html; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

/** URL path → file text and content type; one line per file of `web/`. */
const FILES: Readonly<Record<string, { body: string; type: string }>> = {
  "/": { body: page, type: HTML },
  "/assets/style.css": { body: style, type: CSS },
  "/assets/js/api.js": { body: apiJs, type: JS },
  "/assets/js/dom.js": { body: domJs, type: JS },
  "/assets/js/duration.js": { body: durationJs, type: JS },
  "/assets/js/event_stream.js": { body: eventStreamJs, type: JS },
  "/assets/js/histogram.js": { body: histogramJs, type: JS },
  "/assets/js/labels.js": { body: labelsJs, type: JS },
  "/assets/js/main.js": { body: mainJs, type: JS },
  "/assets/js/query_text.js": { body: queryTextJs, type: JS },
  "/assets/js/results.js": { body: resultsJs, type: JS },
  "/assets/js/run.js": { body: runJs, type: JS },
  "/assets/js/state.js": { body: stateJs, type: JS },
  "/assets/js/status.js": { body: statusJs, type: JS },
  "/assets/js/tail.js": { body: tailJs, type: JS },
  "/assets/js/time.js": { body: timeJs, type: JS },
  "/assets/js/view_url.js": { body: viewUrlJs, type: JS },
};

/** The server's values the page shows or obeys, by placeholder name. */
export interface PageSettings {
  /** Lines per request when the user sets none. */
  DEFAULT_LIMIT: number;
  /** Largest limit the server honours. */
  MAX_LIMIT: number;
}

/** FNV-1a of the text: a strong enough validator for a handful of files. */
function etagOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return `"${(hash >>> 0).toString(36)}-${text.length.toString(36)}"`;
}

/**
 * Builds the asset responder: the page with `settings` filled in, and the
 * other files as they are. Unknown paths throw a 404 {@linkcode HttpError};
 * every answer has an ETag and `cache-control: no-cache`, so browsers
 * revalidate and get 304 until the binary changes.
 *
 * @example
 * ```ts
 * import { createAssets } from "./assets.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const assets = createAssets({ DEFAULT_LIMIT: 100, MAX_LIMIT: 5000 });
 * const res = assets(new Request("http://localhost/assets/js/main.js"), "/assets/js/main.js");
 * assert.equal(res.status, 200);
 * assert.equal(res.headers.get("cache-control"), "no-cache");
 * const etag = res.headers.get("etag")!;
 * const again = new Request("http://localhost/", { headers: { "if-none-match": etag } });
 * assert.equal(assets(again, "/assets/js/main.js").status, 304);
 * assert.throws(() => assets(again, "/assets/nope.js"), HttpError);
 * ```
 */
export function createAssets(
  settings: PageSettings,
): (req: Request, path: string) => Response {
  const values: Record<string, string> = Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [name, String(value)]),
  );
  const filled = page.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`web/index.html: no value for {{${name}}}`);
    return values[name];
  });
  const table = new Map(
    Object.entries(FILES).map(([path, file]) => {
      const body = path === "/" ? filled : file.body;
      return [path, { body, type: file.type, etag: etagOf(body) }];
    }),
  );
  return (req, path) => {
    const file = table.get(path);
    if (!file) throw new HttpError(404, `no asset ${path}`);
    const headers = { "content-type": file.type, "cache-control": "no-cache", etag: file.etag };
    if (req.headers.get("if-none-match") === file.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(file.body, { headers });
  };
}
