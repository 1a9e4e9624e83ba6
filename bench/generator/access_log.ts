/**
 * Access-log templates: the request paths of `nginx` (a shop's pages and assets) and `gateway`
 * (its JSON API), and the status codes both answer with.
 *
 * @module
 */

import { hex8, type Rng, Weighted } from "../../testing/prng.ts";
import { BLOG_POSTS, CATEGORIES, QUERIES, SLUGS } from "./vocabulary.ts";

export type PathFn = (rng: Rng) => string;

/** Content hashes of the last few deploys' bundles. */
const ASSET_HASHES: readonly string[] = ["3f9a1c2e", "b71d04aa", "0c5e9f13"];
const ASSETS_JS: readonly string[] = ["app", "vendor", "checkout", "search"].flatMap((name) =>
  ASSET_HASHES.map((hash) => `${name}.${hash}`)
);

export const NGINX_PATHS: Weighted<readonly [string, PathFn]> = new Weighted<
  readonly [string, PathFn]
>([
  [["GET", () => "/"], 8],
  [["GET", (r) => `/products/${r.pick(SLUGS)}`], 20],
  [["GET", (r) => `/products/${r.pick(SLUGS)}?ref=search&pos=${r.range(1, 24)}`], 5],
  [["GET", (r) => `/category/${r.pick(CATEGORIES)}?page=${r.skewed(20, 2)}`], 6],
  [["GET", (r) => `/search?q=${r.pick(QUERIES)}`], 8],
  [["GET", (r) => `/static/js/${r.pick(ASSETS_JS)}.js`], 10],
  [["GET", (r) => `/static/css/main.${r.pick(ASSET_HASHES)}.css`], 6],
  [["GET", (r) => `/images/products/${r.range(1000, 9999)}-${r.pick([320, 640, 1280])}w.webp`], 14],
  [["GET", () => "/cart"], 4],
  [["POST", () => "/cart/items"], 3],
  [["GET", () => "/checkout"], 2],
  [["POST", () => "/checkout/payment"], 1],
  [["GET", () => "/account/orders"], 2],
  [["GET", () => "/login"], 2],
  [["POST", () => "/login"], 1],
  [["GET", (r) => `/blog/${r.pick(BLOG_POSTS)}`], 2],
  [["GET", () => "/favicon.ico"], 2],
  [["GET", () => "/robots.txt"], 0.5],
  [["GET", () => "/sitemap.xml"], 0.3],
  [["GET", () => "/healthz"], 3],
]);

export const GATEWAY_PATHS: Weighted<readonly [string, PathFn]> = new Weighted<
  readonly [string, PathFn]
>(
  [
    [["GET", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}`], 12],
    [["GET", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}/orders?limit=20`], 6],
    [["PATCH", (r) => `/api/v1/users/${r.skewed(250_000, 2.5)}`], 2],
    [["GET", (r) => `/api/v1/orders/ord_${hex8(r.u32()).slice(0, 7)}`], 8],
    [["POST", () => "/api/v1/orders"], 3],
    [["GET", (r) => `/api/v2/products?category=${r.pick(CATEGORIES)}&page=${r.skewed(30, 2)}`], 12],
    [["GET", (r) => `/api/v2/products/${r.pick(SLUGS)}`], 14],
    [["GET", (r) => `/api/v1/search?q=${r.pick(QUERIES)}&limit=24`], 10],
    [["GET", (r) => `/api/v1/search/suggest?q=${r.pick(QUERIES).slice(0, r.range(2, 6))}`], 6],
    [["POST", () => "/api/v1/cart/items"], 5],
    [["DELETE", (r) => `/api/v1/cart/items/${r.range(1, 40)}`], 1],
    [["POST", () => "/api/v1/auth/token"], 4],
    [["POST", () => "/api/v1/auth/refresh"], 4],
    [["DELETE", () => "/api/v1/sessions/current"], 1],
    [["POST", () => "/api/v1/payments"], 2],
    [["GET", (r) => `/api/v1/recommendations?user_id=${r.skewed(250_000, 2.5)}`], 5],
    [["GET", () => "/metrics"], 2],
    [["GET", () => "/healthz"], 3],
  ],
);

export const STATUSES: Weighted<number> = new Weighted<number>([
  [200, 78],
  [201, 3],
  [204, 2],
  [301, 1.5],
  [302, 2],
  [304, 5],
  [400, 1.5],
  [401, 1.2],
  [403, 0.5],
  [404, 3],
  [429, 0.6],
  [499, 0.3],
  [500, 0.6],
  [502, 0.3],
  [503, 0.3],
  [504, 0.2],
]);
