// @ts-check
/**
 * The little LogQL text handling the page needs without a parser: the end
 * of the stream selector (to add a label matcher to it) and the terms of
 * `|=` and `|~` filters (to highlight them). The server validates every
 * query; these only read text the user typed.
 *
 * @module
 */

const SPECIAL = /[.*+?^${}()|[\]\\]/g;

/**
 * Adds `name op "value"` to the query's stream selector (creating one when
 * absent), unless the exact matcher is already there.
 *
 * @param {string} query
 * @param {string} name
 * @param {string} value
 * @param {string} [op]
 * @returns {string}
 */
export function addMatcher(query, name, value, op = "=") {
  const matcher = `${name}${op}${JSON.stringify(value)}`;
  const q = query.trim();
  const close = q.startsWith("{") ? selectorEnd(q) : -1;
  if (close < 0) return q ? `{${matcher}} ${q}` : `{${matcher}}`;
  const inner = q.slice(1, close).trim();
  const escaped = matcher.replace(SPECIAL, "\\$&");
  if (new RegExp(`(^|,)\\s*${escaped}\\s*(,|$)`).test(inner)) return q;
  return `{${inner ? `${inner}, ` : ""}${matcher}}${q.slice(close + 1)}`;
}

/**
 * Index of the `}` closing the selector that opens `q`, skipping strings; -1 if none.
 *
 * @param {string} q
 * @returns {number}
 */
export function selectorEnd(q) {
  let quote = "";
  for (let i = 1; i < q.length; i++) {
    const c = q[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "`") quote = c;
    else if (c === "}") return i;
  }
  return -1;
}

/**
 * The `|=` terms and `|~` regexes of the query, to highlight in lines.
 *
 * @param {string} query
 * @returns {RegExp[]}
 */
export function highlightPatterns(query) {
  const patterns = [];
  const filter = /(\|=|\|~)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/g;
  for (const [, op, quoted] of query.matchAll(filter)) {
    let value;
    try {
      value = quoted[0] === "`" ? quoted.slice(1, -1) : JSON.parse(quoted);
    } catch {
      value = quoted.slice(1, -1);
    }
    if (!value) continue;
    if (op === "|=") {
      patterns.push(new RegExp(value.replace(SPECIAL, "\\$&"), "g"));
    } else {
      const insensitive = value.startsWith("(?i)");
      try {
        patterns.push(new RegExp(insensitive ? value.slice(4) : value, insensitive ? "gi" : "g"));
      } catch { /* an RE2-only regex: not highlighted */ }
    }
  }
  return patterns;
}
