import assert from "node:assert/strict";
import { join } from "node:path";
import { SeqSet } from "../storage/seq_ranges.ts";
import { Wal } from "./wal.ts";

const enc = new TextEncoder();

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function replayAll(dir: string) {
  const wal = await Wal.open(dir);
  const seen: [number, string][] = [];
  await wal.replay((r) => void seen.push([r.seq, new TextDecoder().decode(r.body)]));
  return { wal, seen };
}

Deno.test("concurrent appends are replayed in order after reopening", () =>
  withDir(async (dir) => {
    const wal = await Wal.open(dir);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => wal.append(i + 1, 1, enc.encode(`body ${i + 1}`))),
    );
    await wal.close(new SeqSet());
    const { wal: again, seen } = await replayAll(dir);
    assert.equal(seen.length, 50);
    assert.deepEqual(seen[49], [50, "body 50"]);
    assert.equal(again.lastSeq, 50);
    await again.close(new SeqSet());
  }));

Deno.test("a torn tail is ignored, never fatal", () =>
  withDir(async (dir) => {
    const wal = await Wal.open(dir);
    for (let i = 1; i <= 3; i++) await wal.append(i, 1, enc.encode(`body ${i}`));
    await wal.close(new SeqSet());
    const [name] = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    const bytes = await Deno.readFile(join(dir, name));
    await Deno.writeFile(join(dir, name), bytes.subarray(0, bytes.length - 4));
    let { wal: again, seen } = await replayAll(dir);
    assert.deepEqual(seen.map((s) => s[0]), [1, 2]);
    await again.close(new SeqSet());
    bytes[bytes.length - 2] ^= 0xff; // a flipped bit in the last record
    await Deno.writeFile(join(dir, name), bytes);
    ({ wal: again, seen } = await replayAll(dir));
    assert.deepEqual(seen.map((s) => s[0]), [1, 2]);
    await again.close(new SeqSet());
  }));

Deno.test("checkpoints delete only segments whose records are all stored", () =>
  withDir(async (dir) => {
    const wal = await Wal.open(dir, { segmentBytes: 1 });
    for (let i = 1; i <= 4; i++) await wal.append(i, 1, enc.encode(`body ${i}`));
    assert.equal(wal.segments, 4);
    const stored = new SeqSet();
    stored.addRanges([[1, 2], [4, 4]]);
    assert.equal(await wal.checkpoint(stored), 2);
    await wal.close(stored);
    const { wal: again, seen } = await replayAll(dir);
    assert.deepEqual(seen.map((s) => s[0]), [3]);
    stored.addRanges([[3, 3]]);
    await again.close(stored);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  }));

Deno.test("a damaged record is skipped, the records after it replay, and the loss is counted", () =>
  withDir(async (dir) => {
    const wal = await Wal.open(dir);
    for (let i = 1; i <= 4; i++) await wal.append(i, 1, enc.encode(`body ${i}`));
    await wal.close(new SeqSet());
    const [name] = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    const bytes = await Deno.readFile(join(dir, name));
    const recordBytes = bytes.length / 4;
    bytes[recordBytes + 20] ^= 0xff; // inside the body of record 2
    await Deno.writeFile(join(dir, name), bytes.subarray(0, bytes.length - 3)); // and a torn tail
    const { wal: again, seen } = await replayAll(dir);
    assert.deepEqual(seen.map((s) => s[0]), [1, 3]);
    assert.deepEqual(again.damage, {
      stretches: 2,
      bytes: recordBytes + (recordBytes - 3),
      records: 2,
    });
    await again.close(new SeqSet());
  }));

Deno.test("a damaged first record counts one lost, whatever sequence the log starts at", () =>
  withDir(async (dir) => {
    // Sequences from a floor (see the ingester's unusedSequence): no record before them.
    const first = 1_795_000_000_000_000;
    const wal = await Wal.open(dir);
    for (let i = 0; i < 3; i++) await wal.append(first + i, 1, enc.encode(`body ${i}`));
    await wal.close(new SeqSet());
    const [name] = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    const bytes = await Deno.readFile(join(dir, name));
    bytes[20] ^= 0xff; // inside the body of the first record
    await Deno.writeFile(join(dir, name), bytes);
    const { wal: again, seen } = await replayAll(dir);
    assert.deepEqual(seen.map((s) => s[0]), [first + 1, first + 2]);
    assert.equal(again.damage.records, 1);
    await again.close(new SeqSet());
  }));

Deno.test("segment names are never reused: a segment left without records never takes a live one with it", () =>
  withDir(async (dir) => {
    // Record 1 in the first segment; the second was created, then the process
    // died before its first write (or its first record was torn).
    const wal = await Wal.open(dir, { segmentBytes: 1 });
    await wal.append(1, 1, enc.encode("body 1"));
    await wal.append(2, 1, enc.encode("body 2"));
    await wal.close(new SeqSet());
    const names = (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
    await Deno.truncate(join(dir, names[1]), 10);
    const { wal: again, seen } = await replayAll(dir);
    assert.deepEqual(seen.map((s) => s[0]), [1]);
    // Sequence 2 comes back (it was never intact); it must land in a new file.
    await again.append(2, 1, enc.encode("body 2 again"));
    const stored = new SeqSet();
    stored.addRanges([[1, 1]]);
    assert.equal(await again.checkpoint(stored), 2); // the first segment and the empty one
    const left = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    assert.equal(left.length, 1);
    assert.ok(!names.includes(left[0]), `${left[0]} reuses a name of ${names}`);
    await again.close(new SeqSet());
    const { wal: last, seen: after } = await replayAll(dir);
    assert.deepEqual(after, [[2, "body 2 again"]]);
    await last.close(new SeqSet());
  }));
