/**
 * Which lines the data folder's files hold, by WAL sequence and time: what a
 * file found without a catalog row (a source left behind by a crash amid the
 * deletion of merged files, or every file when the catalog is rebuilt) is
 * checked against before it is deleted or kept.
 *
 * A flush file holds every line of its WAL sequences. A merge writes one
 * segment per time partition its lines fall in, each holding the lines of the
 * merge's sequences in its partition; all of them together hold every line of
 * those sequences from the merge's first partition to its last (a partition
 * with no segment had no lines). A file is held elsewhere when every stretch
 * of its time range is covered by files holding its sequences there.
 *
 * @module
 */

import type { MergePart } from "./segment_name.ts";
import { type SeqRanges, SeqSet } from "./seq_ranges.ts";

/** The lines of some sequences in the time range [`from`, `to`). */
interface Claim {
  from: bigint;
  to: bigint;
  /** Sequences whose lines in the range are held: the claim's own and those of whole files. */
  readonly seqs: SeqSet;
}

/** The segments of one merge seen so far. */
interface Merge {
  from: bigint;
  to: bigint;
  seen: number;
  readonly siblings: number;
  readonly seqs: SeqRanges;
}

/**
 * Lines held: whole files', time partitions', and whole merges'.
 *
 * @example
 * ```ts
 * import { HeldLines } from "./held_lines.ts";
 * import assert from "node:assert/strict";
 * const held = new HeldLines();
 * const part = (from: bigint, to: bigint) => ({ from, to, merge: "l1-m-1", siblings: 2 });
 * held.add([[1, 4]], part(0n, 100n)); // a merge's first partition
 * assert.equal(held.holds([[1, 4]], 5n, 250n), false); // a source of the merge
 * held.add([[1, 4]], part(200n, 300n)); // and its other one
 * assert.equal(held.holds([[1, 4]], 5n, 250n), true); // the source had no lines in 100..200
 * assert.equal(held.holds([[1, 5]], 5n, 250n), false);
 * ```
 */
export class HeldLines {
  readonly #whole = new SeqSet();
  readonly #claims = new Map<string, Claim>();
  readonly #merges = new Map<string, Merge>();

  /** Records a file's lines: every line of `seqs`, or those of its part of a merge. */
  add(seqs: SeqRanges, part?: MergePart): void {
    if (part === undefined) {
      this.#whole.addRanges(seqs);
      for (const claim of this.#claims.values()) claim.seqs.addRanges(seqs);
      return;
    }
    this.#claim(`${part.from}-${part.to}`, part.from, part.to, seqs);
    let merge = this.#merges.get(part.merge);
    if (merge === undefined) {
      merge = { from: part.from, to: part.to, seen: 0, siblings: part.siblings, seqs };
      this.#merges.set(part.merge, merge);
    }
    if (part.from < merge.from) merge.from = part.from;
    if (part.to > merge.to) merge.to = part.to;
    if (++merge.seen === merge.siblings) {
      this.#claim(`merge ${part.merge}`, merge.from, merge.to, merge.seqs);
    }
  }

  #claim(key: string, from: bigint, to: bigint, seqs: SeqRanges): void {
    let claim = this.#claims.get(key);
    if (claim === undefined) {
      claim = { from, to, seqs: new SeqSet() };
      claim.seqs.addRanges(this.#whole.ranges);
      this.#claims.set(key, claim);
    }
    claim.seqs.addRanges(seqs);
  }

  /** Whether every line of `seqs` with a time in [`minTs`, `maxTs`] is held. */
  holds(seqs: SeqRanges, minTs: bigint, maxTs: bigint): boolean {
    if (this.#whole.coversAll(seqs)) return true;
    const covering = [...this.#claims.values()]
      .filter((c) => c.to > minTs && c.from <= maxTs && c.seqs.coversAll(seqs))
      .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    let reached = minTs;
    for (const claim of covering) {
      if (claim.from > reached) return false;
      if (claim.to > reached) reached = claim.to;
      if (reached > maxTs) return true;
    }
    return false;
  }
}
