/**
 * Storage faults (a full disk, an I/O error) as the layers above see them:
 * an error that says which store failed and whether the disk is full, and a
 * fault state that logs once when a store starts failing and once when it
 * recovers, instead of once per request.
 *
 * @module
 */

import { log } from "../log.ts";

/** A write the storage could not make; `full` when the disk has no space left. */
export class StorageError extends Error {
  /** Whether the disk is full (then freeing space ends the fault). */
  readonly full: boolean;

  /** Wraps `cause`, an error of the store named by `what`. */
  constructor(what: string, cause: unknown) {
    const full = isDiskFull(cause);
    super(
      `${what} cannot write: ${full ? "the disk is full" : describeError(cause)}`,
      { cause },
    );
    this.name = "StorageError";
    this.full = full;
  }
}

/**
 * Whether `error` says the disk is full (ENOSPC or a quota), however it was
 * thrown: by Deno, by node:fs, by SQLite, or passed on by a worker as text.
 *
 * @example
 * ```ts
 * import { isDiskFull } from "./storage_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isDiskFull(new Error("No space left on device (os error 28)")), true);
 * assert.equal(isDiskFull(new Error("database or disk is full")), true);
 * assert.equal(isDiskFull(new Error("permission denied")), false);
 * ```
 */
export function isDiskFull(error: unknown): boolean {
  if (error instanceof StorageError) return error.full;
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return true;
  return /no space left|os error 28|disk is full|quota exceeded|ENOSPC/i.test(
    describeError(error),
  );
}

/** The message of an error, or the thing itself as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a store is failing, logged on every change of state only.
 *
 * @example
 * ```ts
 * import { FaultState } from "./storage_error.ts";
 * import { setLogSink } from "../log.ts";
 * import assert from "node:assert/strict";
 * const logged: string[] = [];
 * const restore = setLogSink((line) => logged.push(line));
 * const state = new FaultState("flush");
 * state.fail(new Error("No space left on device (os error 28)"));
 * state.fail(new Error("No space left on device (os error 28)"));
 * state.recover();
 * restore();
 * assert.equal(logged.length, 2);
 * assert.equal(state.fault, undefined);
 * ```
 */
export class FaultState {
  readonly #what: string;
  #fault?: StorageError;

  /** Tracks the store named `what`. */
  constructor(what: string) {
    this.#what = what;
  }

  /** The current fault, or `undefined` while the store works. */
  get fault(): StorageError | undefined {
    return this.#fault;
  }

  /** Records a failure; returns it as a {@linkcode StorageError}. */
  fail(cause: unknown): StorageError {
    const error = cause instanceof StorageError ? cause : new StorageError(this.#what, cause);
    if (this.#fault === undefined) {
      log(`${error.message}; retrying until it can`);
    }
    this.#fault = error;
    return error;
  }

  /** Records a success. */
  recover(): void {
    if (this.#fault === undefined) return;
    this.#fault = undefined;
    log(`${this.#what} writes again`);
  }
}
