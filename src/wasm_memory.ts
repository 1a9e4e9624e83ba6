/**
 * The memory of loge's WebAssembly modules (`line_coding`, `content_filter`,
 * `line_search`): each lays its input and output out past its data, and
 * grows its memory first when a call needs more.
 *
 * @module
 */

const WASM_PAGE = 65536;

/**
 * `memory`, grown to hold `end` bytes first (never shrunk).
 *
 * @example
 * ```ts
 * import { memoryFor } from "./wasm_memory.ts";
 * import assert from "node:assert/strict";
 * const memory = memoryFor(new WebAssembly.Memory({ initial: 1 }), 70_000);
 * assert.equal(memory.buffer.byteLength, 2 * 65536);
 * ```
 */
export function memoryFor(memory: WebAssembly.Memory, end: number): WebAssembly.Memory {
  if (end > memory.buffer.byteLength) {
    memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
  }
  return memory;
}
