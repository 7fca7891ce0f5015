import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EventType } from "@wrenn/protocol/envd/filesystem";
import { classifyBatch, type RawEvent } from "./event-classifier.js";
import { type FileState, StatCache } from "./stat-cache.js";

const D = "/w";

function file(ino: number, over: Partial<FileState> = {}): FileState {
  return {
    dev: 1n,
    ino: BigInt(ino),
    mode: 0o100644,
    uid: 0,
    gid: 0,
    size: 1n,
    mtimeNs: 100n,
    ctimeNs: 100n,
    isDirectory: false,
    ...over,
  };
}

function dir(ino: number, over: Partial<FileState> = {}): FileState {
  return file(ino, { mode: 0o040755, isDirectory: true, ...over });
}

const rename = (name: string, d = D): RawEvent => ({ dir: d, name, kind: "rename" });
const change = (name: string, d = D): RawEvent => ({ dir: d, name, kind: "change" });

function run(
  events: RawEvent[],
  current: Record<string, FileState | undefined>,
  cache = new StatCache(100),
): Array<[string, string]> {
  return classifyBatch(events, new Map(Object.entries(current)), cache).map((e) => [e.path, EventType[e.type]]);
}

describe("classifyBatch", () => {
  test("create then write of a new file in one batch", () => {
    assert.deepEqual(run([rename("a"), change("a"), change("a")], { "/w/a": file(1) }), [
      ["/w/a", "CREATE"],
      ["/w/a", "WRITE"],
    ]);
  });

  test("write and chmod of a known file, told apart by the cached state", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(1));
    assert.deepEqual(run([change("a")], { "/w/a": file(1, { size: 5n, mtimeNs: 200n, ctimeNs: 200n }) }, cache), [
      ["/w/a", "WRITE"],
    ]);
    assert.deepEqual(
      run([change("a")], { "/w/a": file(1, { mode: 0o100600, size: 5n, mtimeNs: 200n, ctimeNs: 300n }) }, cache),
      [["/w/a", "CHMOD"]],
    );
    // chmod to the same mode: only ctime moves.
    assert.deepEqual(
      run([change("a")], { "/w/a": file(1, { mode: 0o100600, size: 5n, mtimeNs: 200n, ctimeNs: 400n }) }, cache),
      [["/w/a", "CHMOD"]],
    );
  });

  test("without a cached state, ctime == mtime means write", () => {
    assert.deepEqual(run([change("a")], { "/w/a": file(1, { mtimeNs: 5n, ctimeNs: 5n }) }), [["/w/a", "WRITE"]]);
    assert.deepEqual(run([change("a")], { "/w/a": file(1, { mtimeNs: 5n, ctimeNs: 9n }) }), [["/w/a", "CHMOD"]]);
  });

  test("rename inside the tree: old name RENAME, new name CREATE", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(7));
    assert.deepEqual(run([rename("a"), rename("b", "/w/sub")], { "/w/a": undefined, "/w/sub/b": file(7) }, cache), [
      ["/w/a", "RENAME"],
      ["/w/sub/b", "CREATE"],
    ]);
    assert.equal(cache.has("/w/a"), false);
    assert.equal(cache.get("/w/sub/b")?.ino, 7n);
  });

  test("delete of a known and of an unknown file is REMOVE", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(7));
    assert.deepEqual(run([rename("a"), rename("z")], { "/w/a": undefined, "/w/z": undefined }, cache), [
      ["/w/a", "REMOVE"],
      ["/w/z", "REMOVE"],
    ]);
  });

  test("create and delete within one batch", () => {
    assert.deepEqual(run([rename("t"), change("t"), rename("t")], { "/w/t": undefined }), [
      ["/w/t", "CREATE"],
      ["/w/t", "REMOVE"],
    ]);
  });

  test("delete and re-create under the same name", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(1));
    assert.deepEqual(run([rename("a"), rename("a")], { "/w/a": file(2) }, cache), [
      ["/w/a", "REMOVE"],
      ["/w/a", "CREATE"],
    ]);
  });

  test("a file moved over an existing name is a CREATE", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(1));
    assert.deepEqual(run([rename("a")], { "/w/a": file(2) }, cache), [["/w/a", "CREATE"]]);
  });

  test("chmod of a subdirectory arrives as rename and is CHMOD; a duplicate is dropped", () => {
    const cache = new StatCache(100);
    cache.set("/w/d", dir(3));
    assert.deepEqual(run([rename("d")], { "/w/d": dir(3, { mode: 0o040700, ctimeNs: 200n }) }, cache), [
      ["/w/d", "CHMOD"],
    ]);
    assert.deepEqual(run([rename("d")], { "/w/d": dir(3, { mode: 0o040700, ctimeNs: 200n }) }, cache), []);
  });

  test("a subdirectory's report about itself is not a child event", () => {
    assert.deepEqual(run([rename("sub", "/w/sub"), rename("sub")], { "/w/sub/sub": undefined, "/w/sub": undefined }), [
      ["/w/sub", "REMOVE"],
    ]);
  });

  test("consecutive identical events are coalesced", () => {
    const cache = new StatCache(100);
    cache.set("/w/a", file(1));
    const grown = file(1, { size: 9n, mtimeNs: 300n, ctimeNs: 300n });
    assert.deepEqual(run([change("a"), change("a"), change("a")], { "/w/a": grown }, cache), [["/w/a", "WRITE"]]);
  });
});

describe("StatCache", () => {
  test("is bounded and forgets the least recently updated path", () => {
    const cache = new StatCache(2);
    cache.set("/a", file(1));
    cache.set("/b", file(2));
    cache.set("/a", file(3));
    cache.set("/c", file(4));
    assert.equal(cache.size, 2);
    assert.equal(cache.has("/b"), false);
    assert.equal(cache.get("/a")?.ino, 3n);
  });

  test("deleteTree forgets a directory and its contents only", () => {
    const cache = new StatCache(10);
    for (const p of ["/d", "/d/x", "/d/y/z", "/dd"]) cache.set(p, file(1));
    cache.deleteTree("/d");
    assert.equal(cache.size, 1);
    assert.equal(cache.has("/dd"), true);
  });
});
