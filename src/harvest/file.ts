/**
 * The file harvester: follows files named by a path or a glob (`*`, `?` in
 * the file name), as `tail -F` does. A file is followed by its inode: when
 * its path is renamed away (rotation), the old file is read to its end
 * before the new one at the path is read from its start; when it shrinks
 * (truncation), it is read again from its start. Where each file stands is
 * kept in the data folder (`harvest/<name>.json`, written durably) once its
 * lines are stored, and never past lines a stop left unstored, so a restart
 * goes on where it stopped, a file renamed away meanwhile found by its inode
 * and read to its end. The files there at the harvester's first start are
 * read from their end (`start_at: end`, the default) or their start
 * (`start_at: beginning`); any file seen since, from its start.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type Batcher, MAX_PENDING_MESSAGE } from "./batcher.ts";
import { type LineFormat, mapLine } from "./line_format.ts";
import { writeFileDurably } from "../storage/durable_file.ts";
import { log } from "../log.ts";

const encoder = new TextEncoder();

/** How often files are looked at, in ms. */
export const POLL_MS = 250;
/** Bytes read from a file at once. */
const CHUNK = 256 * 1024;

/** Where a followed file stands. */
interface Position {
  ino: number;
  offset: number;
  /** Whether the offset is inside a line too long to hold, skipped to its newline. */
  skipping?: boolean;
}

/**
 * A followed file: its inode, the bytes read of it, and the partial line at
 * their end, or whether a line too long to hold is being skipped.
 */
interface Followed extends Position {
  path: string;
  rest: Uint8Array;
  skipping: boolean;
}

/** Turns `name` (`*`, `?`) into a regex of whole file names. */
function globOf(name: string): RegExp {
  const body = name.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(
    /\?/g,
    "[^/]",
  );
  return new RegExp(`^${body}$`);
}

/**
 * Follows the files of `pattern` into `batcher` until stopped.
 *
 * @param stateFile Where positions are kept across restarts.
 */
export function followFiles(
  pattern: string,
  format: LineFormat,
  startAt: "beginning" | "end",
  stateFile: string,
  batcher: Batcher,
): () => Promise<void> {
  const folder = dirname(pattern);
  const names = globOf(basename(pattern));
  const followed = new Map<string, Followed>(); // by path
  /** The positions on disk as last written ("": none yet, the harvester's first start). */
  let savedText = "";
  let stopped = false;
  const decoder = new TextDecoder();

  /**
   * Follows the files where the last run left them: a file renamed or
   * rotated away meanwhile is found by its inode and read to its end.
   */
  const load = async () => {
    let saved: Record<string, Position> = {};
    try {
      const text = await Deno.readTextFile(stateFile);
      saved = JSON.parse(text);
      savedText = text;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        log(
          `harvester ${batcher.name}: where its files stood cannot be read, they are followed ` +
            `as new (start_at): ${(error as Error).message}`,
        );
      }
    }
    for (const [path, { ino, offset, skipping }] of Object.entries(saved)) {
      followed.set(path, {
        path,
        ino,
        offset,
        rest: new Uint8Array(0),
        skipping: skipping === true,
      });
    }
  };
  const save = async () => {
    const state: Record<string, Position> = {};
    // A partial line is read again after a restart: it is not stored yet.
    for (const f of followed.values()) {
      state[f.path] = f.skipping
        ? { ino: f.ino, offset: f.offset, skipping: true }
        : { ino: f.ino, offset: f.offset - f.rest.length };
    }
    const text = JSON.stringify(state);
    if (text === savedText) return; // nothing moved: no fsyncs
    await Deno.mkdir(dirname(stateFile), { recursive: true });
    await writeFileDurably(stateFile, encoder.encode(text));
    savedText = text;
  };

  /** Reads what `f` gained since its offset; lines go to the batcher, a partial one waits. */
  const readNew = async (f: Followed, path: string, last: boolean) => {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch {
      return; // gone between the look and the open
    }
    try {
      const info = await file.stat();
      if (info.ino !== f.ino) return; // another file took the path: the next look sees it
      if (info.size < f.offset) {
        // Truncated: from its start again.
        f.offset = 0;
        f.rest = new Uint8Array(0);
        f.skipping = false;
      }
      await file.seek(f.offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(CHUNK);
      for (;;) {
        const n = await file.read(buffer);
        if (n === null || n === 0) break;
        f.offset += n;
        let read = buffer.subarray(0, n);
        if (f.skipping) {
          const newline = read.indexOf(0x0a);
          if (newline < 0) continue;
          read = read.subarray(newline + 1);
          f.skipping = false;
        }
        const bytes = new Uint8Array(f.rest.length + read.length);
        bytes.set(f.rest);
        bytes.set(read, f.rest.length);
        // Whole lines only: a line (or a character) cut by the read waits for its end.
        const end = bytes.lastIndexOf(0x0a) + 1;
        f.rest = bytes.slice(end);
        for (const line of decoder.decode(bytes.subarray(0, end)).split("\n")) {
          await take(line.replace(/\r$/, ""));
        }
        if (f.rest.length > MAX_PENDING_MESSAGE) {
          // A line with no end in sight: memory is not the file's to fill.
          batcher.malformed(
            `${path}: a line of over ${MAX_PENDING_MESSAGE} bytes has no end: skipped to the next newline`,
          );
          f.rest = new Uint8Array(0);
          f.skipping = true;
        }
      }
      if (last && f.rest.length > 0) {
        await take(decoder.decode(f.rest));
        f.rest = new Uint8Array(0);
      }
    } finally {
      file.close();
    }
  };

  const take = async (text: string) => {
    if (text.trim() === "") return;
    const line = mapLine(text, format, BigInt(Date.now()) * 1_000_000n);
    if (typeof line === "string") batcher.malformed(line);
    else await batcher.add(line);
  };

  const look = async () => {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch { /* the folder is not there yet */ }
    const byIno = new Map([...followed.values()].map((f) => [f.ino, f]));
    const now = new Map<string, Followed>();
    for (const e of entries) {
      if (!e.isFile || !names.test(e.name)) continue;
      const path = join(folder, e.name);
      const info = await Deno.stat(path).catch(() => undefined);
      if (info?.ino == null) continue;
      const same = followed.get(path);
      if (same?.ino === info.ino) {
        now.set(path, same);
        continue;
      }
      // A file we follow under another name (renamed into the pattern) keeps its place.
      const moved = byIno.get(info.ino);
      if (moved) {
        now.set(path, { ...moved, path });
        continue;
      }
      // New: at its end at the harvester's first start (`start_at: end`); any
      // file seen since, while loge ran or was down, holds lines to read.
      const offset = !started && startAt === "end" && savedText === "" ? info.size : 0;
      now.set(path, { path, ino: info.ino, offset, rest: new Uint8Array(0), skipping: false });
    }
    // Files whose inode left the pattern (renamed away, or deleted): read to their end.
    const kept = new Set([...now.values()].map((f) => f.ino));
    for (const old of followed.values()) {
      if (!kept.has(old.ino)) await drainRenamed(old);
    }
    followed.clear();
    for (const [path, f] of now) followed.set(path, f);
    for (const [path, f] of followed) await readNew(f, path, false);
  };

  /** Reads an old file to its end under whatever name it has now in the folder, if any. */
  const drainRenamed = async (old: Followed) => {
    for await (const e of Deno.readDir(folder)) {
      if (!e.isFile) continue;
      const path = join(folder, e.name);
      const info = await Deno.stat(path).catch(() => undefined);
      if (info?.ino === old.ino) return await readNew(old, path, true);
    }
  };

  let started = false;
  let saveFailing = false;
  const loop = (async () => {
    await load();
    while (!stopped) {
      try {
        await look();
        started = true;
        // Stored before the positions say so; none saved past lines a stop left unstored.
        if (await batcher.flush()) {
          await save();
          if (saveFailing) log(`harvester ${batcher.name}: where its files stand is saved again`);
          saveFailing = false;
        }
      } catch (error) {
        // A full disk, say: the lines are stored, a restart would read them again.
        if (!saveFailing) {
          log(
            `harvester ${batcher.name}: cannot save where its files stand, trying again: ${
              (error as Error).message
            }`,
          );
        }
        saveFailing = true;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
