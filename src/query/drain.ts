/**
 * Log pattern mining with Drain (He et al., "Drain: An Online Log Parsing
 * Approach with Fixed Depth Tree", ICWS 2017), as Loki's pattern ingester
 * runs it (loki `pkg/pattern/drain/drain.go`, its default configuration):
 * lines are split into tokens at spaces and punctuation; lines of as many
 * tokens meet in a prefix tree whose path follows their first tokens (a
 * token holding a digit, or one past a node's 15 children, takes the
 * wildcard path); at the leaf, a line joins the cluster whose template it
 * matches best if at least 30% of the template's fixed tokens equal its own,
 * and the template's tokens that differ become `<_>`. A template reads as the
 * lines it came from, with `<_>` where they differ: a LogQL pattern filter
 * (`|> "…"`) over it matches them.
 *
 * JSON object lines are mined by their message field (`log`, `message`,
 * `msg`, `msg_`, `_msg` or `content`; lines without one are skipped) and
 * their template is wrapped in `<_>`, as Loki's JSON tokenizer does. Lines
 * longer than 3000 characters, and lines of fewer than 4 or more than 80
 * tokens, are skipped, as in Loki.
 *
 * @module
 */

/** The wildcard of templates. */
export const PLACEHOLDER = "<_>";

/** The tree's depth (Loki's `LogClusterDepth`, 30, less the root and the token-count layers). */
const MAX_NODE_DEPTH = 28;
/** Least share of a template's fixed tokens a line must equal to join it. */
const SIMILARITY = 0.3;
/** Children of a tree node before new tokens take the wildcard path. */
const MAX_CHILDREN = 15;
/** Longest line mined, in characters. */
const MAX_LINE_LENGTH = 3000;
const MIN_TOKENS = 4;
const MAX_TOKENS = 80;
/** Tokens the tokenizer makes at most; the rest of the line is the last one. */
const TOKENIZER_LIMIT = 127;
/** JSON fields that hold a line's message (Loki's `pattern_ingester_tokenizable_json_fields`). */
const MESSAGE_FIELDS = ["log", "message", "msg", "msg_", "_msg", "content"];

/** A line's tokens, and after which of them spaces follow (one entry per space; -1: leading). */
interface Tokens {
  readonly tokens: string[];
  readonly spacesAfter: number[];
}

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;
const PUNCTUATION = /\p{P}/u;
const HAS_NUMBER = /\p{N}/u;

/**
 * Splits `text` at spaces (dropped, their places kept), `=` and punctuation
 * other than `_ - . : /` (each its own token), as Loki's punctuation
 * tokenizer does.
 */
function tokenize(text: string): Tokens {
  const tokens: string[] = [];
  const spacesAfter: number[] = [];
  let start = 0;
  let i = 0;
  for (const char of text) {
    const at = i;
    i += char.length;
    if (tokens.length >= TOKENIZER_LIMIT) break;
    const c = char.charCodeAt(0);
    if (c < 0x80) {
      // ASCII: letters, digits and _ - . : / stay in the token.
      if (
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
        c === 0x5f || c === 0x2d || c === 0x2e || c === 0x3a || c === 0x2f
      ) continue;
      if (c !== 0x20 && c !== 0x3d && !PUNCTUATION.test(char)) continue;
    } else if (LETTER_OR_NUMBER.test(char) || !PUNCTUATION.test(char)) continue;
    if (at > start) tokens.push(text.slice(start, at));
    if (c === 0x20) spacesAfter.push(tokens.length - 1);
    else tokens.push(char);
    start = i;
  }
  if (start < text.length) tokens.push(text.slice(start));
  return { tokens, spacesAfter };
}

/** The raw text of the first string message field of a JSON object line, if any. */
function jsonMessage(line: string): string | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return undefined;
  for (const field of MESSAGE_FIELDS) {
    const value = (obj as Record<string, unknown>)[field];
    // JSON-escaped, as the line writes it (Loki tokenizes the text as written).
    if (typeof value === "string") return JSON.stringify(value).slice(1, -1);
  }
  return undefined;
}

/** One template and what it counts. */
export class Cluster {
  /** Lines that joined it. */
  size = 1;
  /** Per caller's key (such as a time bucket), what it added. */
  readonly counts = new Map<number, number>();
  readonly #tokens: string[];
  readonly #spacesAfter: number[];
  readonly #json: boolean;

  /** A cluster of the line of `tokens` (a JSON line's message when `json`). */
  constructor(tokens: Tokens, json: boolean) {
    this.#tokens = [...tokens.tokens];
    this.#spacesAfter = [...tokens.spacesAfter];
    this.#json = json;
  }

  /** The template's tokens (changed in place as lines join). */
  get tokens(): string[] {
    return this.#tokens;
  }

  /** The template as text: the first line's spacing, runs of `<_>` as one. */
  get pattern(): string {
    let text = "";
    let space = 0;
    while (space < this.#spacesAfter.length && this.#spacesAfter[space] < 0) {
      text += " ";
      space++;
    }
    this.#tokens.forEach((token, i) => {
      text += token;
      while (space < this.#spacesAfter.length && this.#spacesAfter[space] === i) {
        text += " ";
        space++;
      }
    });
    if (this.#json) text = PLACEHOLDER + text + PLACEHOLDER;
    return text.replace(/(?:<_>){2,}/g, PLACEHOLDER);
  }

  /** Adds `n` to the count of `key`. */
  count(key: number, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}

/** A node of the prefix tree. */
interface TreeNode {
  readonly children: Map<string, TreeNode>;
  clusters: Cluster[];
}

const node = (): TreeNode => ({ children: new Map(), clusters: [] });

/** A shared bound on the clusters that several miners may create. */
export interface ClusterBudget {
  /** Clusters that may still be created. */
  remaining: number;
}

/**
 * A Drain miner: one prefix tree and its clusters.
 *
 * @example
 * ```ts
 * import { Drain } from "./drain.ts";
 * import assert from "node:assert/strict";
 * const drain = new Drain({ remaining: 100 });
 * for (const n of [123, 456, 789]) drain.train(`server request took ${n} ms to complete`);
 * assert.deepEqual(drain.clusters.map((c) => [c.pattern, c.size]), [
 *   ["server request took <_> ms to complete", 3],
 * ]);
 * assert.equal(drain.train("too short"), undefined);
 * ```
 */
export class Drain {
  readonly #root = node();
  readonly #budget: ClusterBudget;
  /** Every cluster, in order of creation. */
  readonly clusters: Cluster[] = [];

  /** A miner that creates clusters while `budget` lasts. */
  constructor(budget: ClusterBudget) {
    this.#budget = budget;
  }

  /**
   * Mines `line`: the cluster it joined or started; `undefined` when it is
   * skipped (too long, too few or too many tokens, a JSON line without a
   * message) or matches no cluster once the budget is spent.
   */
  train(line: string): Cluster | undefined {
    if (line.length > MAX_LINE_LENGTH) return undefined;
    const trimmed = line.trim();
    const json = trimmed.startsWith("{") && trimmed.endsWith("}");
    const text = json ? jsonMessage(line) : line;
    if (text === undefined || text.length > MAX_LINE_LENGTH) return undefined;
    const tokens = tokenize(text);
    const n = tokens.tokens.length;
    if (n < MIN_TOKENS || n > MAX_TOKENS) return undefined;
    const key = (json ? "json " : "") + n;
    const found = this.#search(key, tokens.tokens);
    if (found) {
      found.size++;
      const template = found.tokens;
      for (let i = 0; i < n; i++) if (template[i] !== tokens.tokens[i]) template[i] = PLACEHOLDER;
      return found;
    }
    if (this.#budget.remaining <= 0) return undefined;
    this.#budget.remaining--;
    const cluster = new Cluster(tokens, json);
    this.clusters.push(cluster);
    this.#add(key, cluster);
    return cluster;
  }

  /** The best cluster for `tokens` under the tree's path, if similar enough. */
  #search(key: string, tokens: string[]): Cluster | undefined {
    let current = this.#root.children.get(key);
    if (!current) return undefined;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= MAX_NODE_DEPTH || depth === tokens.length) break;
      const next: TreeNode | undefined = current.children.get(token) ??
        current.children.get(PLACEHOLDER);
      if (!next) return undefined;
      current = next;
      depth++;
    }
    let best: Cluster | undefined;
    let bestSimilarity = -1;
    let bestParams = -1;
    for (const cluster of current.clusters) {
      let same = 0;
      let params = 0;
      const template = cluster.tokens;
      for (let i = 0; i < template.length; i++) {
        if (template[i] === PLACEHOLDER) params++;
        else if (template[i] === tokens[i]) same++;
      }
      const similarity = same / template.length;
      if (similarity > bestSimilarity || (similarity === bestSimilarity && params > bestParams)) {
        best = cluster;
        bestSimilarity = similarity;
        bestParams = params;
      }
    }
    return bestSimilarity >= SIMILARITY ? best : undefined;
  }

  /** Files `cluster` under its path of the tree, making the path as Loki does. */
  #add(key: string, cluster: Cluster): void {
    let current: TreeNode | undefined = this.#root.children.get(key);
    if (!current) this.#root.children.set(key, current = node());
    const tokens = cluster.tokens;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= MAX_NODE_DEPTH || depth >= tokens.length) break;
      let next: TreeNode | undefined = current.children.get(token);
      if (!next) {
        const wildcard = current.children.get(PLACEHOLDER);
        const size = current.children.size;
        if (HAS_NUMBER.test(token)) {
          next = wildcard;
          if (!next) current.children.set(PLACEHOLDER, next = node());
        } else if (wildcard) {
          if (size < MAX_CHILDREN) current.children.set(token, next = node());
          else next = wildcard;
        } else {
          next = node();
          current.children.set(size + 1 < MAX_CHILDREN ? token : PLACEHOLDER, next);
        }
      }
      current = next;
      depth++;
    }
    current.clusters.push(cluster);
  }
}
