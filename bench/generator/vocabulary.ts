/**
 * The generator's vocabulary: the words a small web shop's logs are made of (products,
 * categories, user agents, tables, jobs, peers, error messages, …), and client addresses.
 *
 * @module
 */

import { fmix32, type Rng } from "../../testing/prng.ts";

export const PRODUCTS: readonly string[] = (
  "wireless headphones|running shoes|coffee grinder|standing desk|yoga mat|water bottle|" +
  "backpack|mechanical keyboard|gaming mouse|usb c charger|phone case|screen protector|" +
  "winter jacket|rain boots|wool socks|leather wallet|sunglasses|smart watch|fitness tracker|" +
  "bluetooth speaker|desk lamp|office chair|monitor arm|laptop stand|notebook|fountain pen|" +
  "cast iron skillet|chef knife|cutting board|french press|tea kettle|espresso machine|" +
  "air fryer|rice cooker|blender|toaster|vacuum cleaner|air purifier|humidifier|space heater|" +
  "electric toothbrush|hair dryer|shampoo|sunscreen|face mask|throw pillow|duvet cover|" +
  "bath towel|shower curtain|picture frame|wall clock|plant pot|garden hose|tent|sleeping bag|" +
  "camping stove|hiking poles|bike helmet|bike lock|tennis racket|basketball|soccer ball|" +
  "board game|jigsaw puzzle|paperback novel|cookbook|kids toys|baby monitor|dog leash|cat tree|" +
  "aquarium filter|bird feeder|printer paper|ink cartridge|external hard drive|memory card|" +
  "hdmi cable|webcam|microphone|ring light|tripod|drone|action camera|e reader|tablet|" +
  "gift card|birthday candles|wrapping paper|travel adapter|suitcase|neck pillow"
).split("|");

export const SLUGS: readonly string[] = PRODUCTS.map((p) => p.replaceAll(" ", "-"));
export const QUERIES: readonly string[] = PRODUCTS.map((p) => p.replaceAll(" ", "+"));

export const CATEGORIES: readonly string[] = (
  "electronics kitchen outdoors fitness home garden office toys books pets beauty travel " +
  "clothing shoes accessories audio cameras gaming"
).split(" ");

export const BLOG_POSTS: readonly string[] = (
  "how-to-choose-running-shoes|best-coffee-grinders-of-the-year|setting-up-a-home-office|" +
  "spring-cleaning-checklist|camping-for-beginners|gift-ideas-for-dads|holiday-shipping-deadlines|" +
  "caring-for-cast-iron|our-sustainability-report|meet-the-team"
).split("|");

export const USER_AGENTS: readonly string[] = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
  "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "curl/8.5.0",
  "python-requests/2.32.3",
  "okhttp/4.12.0",
  "Go-http-client/2.0",
  "kube-probe/1.31",
];

export const API_CLIENT_AGENTS: readonly string[] = [
  "shop-ios/5.12.0 (iPhone; iOS 18.1)",
  "shop-android/5.11.2 (Pixel 8; Android 14)",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "partner-sync/2.3.1",
  "python-requests/2.32.3",
  "Go-http-client/2.0",
  "node-fetch/3.3.2",
];

export const REFERERS: readonly string[] = [
  "https://shop.example.com/",
  "https://shop.example.com/cart",
  "https://shop.example.com/checkout",
  "https://shop.example.com/account/orders",
  "https://www.google.com/",
  "https://www.bing.com/",
  "https://duckduckgo.com/",
  "https://t.co/",
  "https://www.facebook.com/",
  "https://news.ycombinator.com/",
];

export const MONTHS: readonly string[] = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(
  " ",
);

export const TABLES: readonly string[] = (
  "users orders order_items products carts sessions payments invoices refunds addresses " +
  "inventory shipments coupons audit_log"
).split(" ");

export const JOBS: readonly string[] = (
  "send_order_confirmation|sync_inventory|generate_sitemap|reindex_products|expire_carts|" +
  "charge_subscriptions|export_orders_csv|resize_product_images|recalculate_recommendations|" +
  "purge_deleted_accounts|send_abandoned_cart_email|reconcile_payouts|rotate_api_keys|" +
  "refresh_exchange_rates|compute_daily_report"
).split("|");

export const QUEUES: readonly string[] = "default critical emails images reports billing search"
  .split(
    " ",
  );

export const EMAIL_TEMPLATES: readonly string[] = (
  "order_confirmation shipping_update password_reset welcome abandoned_cart invoice " +
  "review_request newsletter account_locked"
).split(" ");

export const MAIL_DOMAINS: readonly string[] = (
  "gmail.com outlook.com yahoo.com icloud.com proton.me hotmail.com example.org fastmail.com"
).split(" ");

export const UPSTREAMS: readonly string[] = (
  "users:8080 orders:8080 catalog:8080 payments:8443 auth:9000 search:9200 inventory:8080 " +
  "recommendations:8080"
).split(" ");

export const PEERS: readonly string[] = (
  "10.0.3.7:5432 10.0.3.8:5432 10.0.4.12:6379 10.0.4.13:6379 10.0.5.21:9200 10.0.5.22:9200 " +
  "10.0.6.2:587 10.0.7.40:389 10.0.2.15:8080 10.0.2.16:8080"
).split(" ");

export const PROVIDERS: readonly string[] = ["stripe", "adyen", "paypal", "braintree"];
export const CURRENCIES: readonly string[] = ["USD", "EUR", "GBP", "CAD", "AUD", "JPY"];
export const PLANS: readonly string[] = ["free", "basic", "plus", "business", "enterprise"];
export const INDEXES: readonly string[] = [
  "products-v7",
  "orders-v3",
  "reviews-v2",
  "help-articles-v1",
];
export const COUNTRIES: readonly string[] = "US GB DE FR CA AU NL SE ES IT JP BR IN".split(" ");
export const MFA: readonly string[] = ["totp", "sms", "webauthn", "email"];
export const ROUTES: readonly string[] = (
  "/ /products/:slug /cart /checkout /checkout/payment /account /account/orders /search " +
  "/category/:name /login /signup /help /blog/:slug"
).split(" ");
export const FLAGS: readonly string[] = (
  "new_checkout_flow dark_mode one_click_reorder recommendations_v2 free_shipping_banner " +
  "search_spellcheck"
).split(" ");
export const ERRORS: readonly string[] = [
  "dial tcp {peer}: connect: connection refused",
  "read tcp {peer}: read: connection reset by peer",
  "context canceled",
  "unexpected EOF",
  "pq: deadlock detected",
  "pq: duplicate key value violates unique constraint",
  "redis: connection pool exhausted",
  "x509: certificate has expired or is not yet valid",
  "json: cannot unmarshal string into Go value of type int",
  "lookup {upstream}: no such host",
  "http2: stream closed",
  "write: broken pipe",
  "read tcp {peer}: i/o timeout",
  "dial tcp {peer}: i/o timeout",
  "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
];

/** A client address from a skewed pool of ~50k public-looking IPv4 addresses. */
export function clientIp(r: Rng): string {
  const n = fmix32(r.skewed(50_000, 2) * 0x9e3779b1);
  // First octet from common public ranges.
  const first = [23, 31, 45, 51, 66, 73, 81, 98, 104, 142, 176, 185, 203, 212][n % 14];
  return `${first}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${1 + ((n >>> 24) % 254)}`;
}
