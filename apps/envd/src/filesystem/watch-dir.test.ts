import assert from "node:assert/strict";
import { appendFile, chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { EventType, type FilesystemEvent, FileType, type WatchDirResponse } from "@wrenn/protocol/envd/filesystem";
import { useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { codeOf, fsClient } from "./fs-test-client.js";
import { openWatchHandles } from "./watch-tree.js";

/** Reads a WatchDir stream with per-step deadlines, so a missing event fails fast. */
class StreamReader {
  readonly #it: AsyncIterator<WatchDirResponse>;
  #pending: Promise<IteratorResult<WatchDirResponse>> | undefined;
  /** Every filesystem event seen so far, as "TYPE name". */
  readonly seen: string[] = [];

  constructor(stream: AsyncIterable<WatchDirResponse>) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  async next(timeoutMs = 3000): Promise<WatchDirResponse> {
    this.#pending ??= this.#it.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no event within ${timeoutMs} ms; seen: ${this.seen.join(", ")}`)),
        timeoutMs,
      );
    });
    try {
      const result = await Promise.race([this.#pending, timeout]);
      this.#pending = undefined;
      if (result.done) throw new Error("stream ended");
      if (result.value.event.case === "filesystem") this.seen.push(label(result.value.event.value));
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads until a filesystem event "TYPE name" arrives; returns it. */
  async expect(wanted: string): Promise<FilesystemEvent> {
    for (;;) {
      const res = await this.next();
      if (res.event.case === "filesystem" && label(res.event.value) === wanted) return res.event.value;
    }
  }
}

function label(e: FilesystemEvent): string {
  return `${EventType[e.type]} ${e.name}`;
}

describe("WatchDir", { timeout: 20_000 }, () => {
  test("recursive watch with entries: create, write, chmod, rename, remove, new subdirectories", async () => {
    await using t = await useEnvd();
    const dir = join(t.dir, "w");
    await mkdir(dir);
    const ac = new AbortController();
    const fs = fsClient(t.url, { binary: true });
    const r = new StreamReader(fs.watchDir({ path: dir, recursive: true, includeEntry: true }, { signal: ac.signal }));
    assert.equal((await r.next()).event.case, "start");

    await writeFile(join(dir, "a.txt"), "1");
    const created = await r.expect("CREATE a.txt");
    assert.equal(created.entry?.type, FileType.FILE);
    assert.equal(created.entry?.path, join(dir, "a.txt"));
    await r.expect("WRITE a.txt");

    await appendFile(join(dir, "a.txt"), "2");
    assert.equal((await r.expect("WRITE a.txt")).entry?.size, 2n);

    await chmod(join(dir, "a.txt"), 0o600);
    assert.equal((await r.expect("CHMOD a.txt")).entry?.mode, 0o600);

    await rename(join(dir, "a.txt"), join(dir, "b.txt"));
    const renamed = await r.expect("RENAME a.txt");
    assert.equal(renamed.entry, undefined, "the old name has no entry");
    assert.equal((await r.expect("CREATE b.txt")).entry?.name, "b.txt");

    await rm(join(dir, "b.txt"));
    await r.expect("REMOVE b.txt");

    // A subdirectory created after the watch started is watched too.
    await mkdir(join(dir, "sub"));
    assert.equal((await r.expect("CREATE sub")).entry?.type, FileType.DIRECTORY);
    await writeFile(join(dir, "sub", "inner.txt"), "x");
    await r.expect("CREATE sub/inner.txt");
    await r.expect("WRITE sub/inner.txt");
    await chmod(join(dir, "sub"), 0o700);
    await r.expect("CHMOD sub");

    // Files appearing with a new directory tree (mkdir -p + write before the watch is added) are announced.
    await mkdir(join(dir, "x", "y"), { recursive: true });
    await writeFile(join(dir, "x", "y", "z.txt"), "z");
    await r.expect("CREATE x");
    await r.expect("CREATE x/y/z.txt");

    // Moving a directory within the tree keeps watching it under its new name.
    await rename(join(dir, "sub"), join(dir, "moved"));
    await r.expect("RENAME sub");
    await r.expect("CREATE moved");
    await writeFile(join(dir, "moved", "after.txt"), "a");
    await r.expect("CREATE moved/after.txt");

    await rm(join(dir, "moved"), { recursive: true });
    await r.expect("REMOVE moved/inner.txt");
    await r.expect("REMOVE moved");
    ac.abort();
  });

  test("non-recursive watch ignores subdirectories (JSON)", async () => {
    await using t = await useEnvd();
    const dir = join(t.dir, "flat");
    await mkdir(join(dir, "sub"), { recursive: true });
    const ac = new AbortController();
    const r = new StreamReader(fsClient(t.url).watchDir({ path: dir }, { signal: ac.signal }));
    assert.equal((await r.next()).event.case, "start");
    await writeFile(join(dir, "sub", "hidden.txt"), "h");
    await writeFile(join(dir, "marker"), "m");
    const marker = await r.expect("CREATE marker");
    assert.equal(marker.entry, undefined, "no entry unless include_entry");
    assert.ok(!r.seen.some((s) => s.includes("hidden")), r.seen.join(", "));
    ac.abort();
  });

  test("errors: missing directory, a file, and a bad path", async () => {
    await using t = await useEnvd();
    const fs = fsClient(t.url);
    const first = (path: string) => fs.watchDir({ path })[Symbol.asyncIterator]().next();
    assert.equal(await codeOf(first(join(t.dir, "missing"))), Code.NotFound);
    await writeFile(join(t.dir, "file"), "x");
    assert.equal(await codeOf(first(join(t.dir, "file"))), Code.InvalidArgument);
    assert.equal(await codeOf(first(`${t.dir}/\0`)), Code.InvalidArgument);
  });

  test("keepalive events at the Keepalive-Ping-Interval", async () => {
    await using t = await useEnvd();
    const ac = new AbortController();
    const fs = fsClient(t.url, { headers: { "keepalive-ping-interval": "1" } });
    const r = new StreamReader(fs.watchDir({ path: t.dir }, { signal: ac.signal }));
    assert.equal((await r.next()).event.case, "start");
    assert.equal((await r.next(2500)).event.case, "keepalive");
    ac.abort();
  });

  test("cancelling the stream, or the watched directory vanishing, releases every inotify watch", async () => {
    await using t = await useEnvd();
    const before = openWatchHandles();
    const dir = join(t.dir, "tree");
    await mkdir(join(dir, "a", "b"), { recursive: true });
    const ac = new AbortController();
    const r = new StreamReader(fsClient(t.url).watchDir({ path: dir, recursive: true }, { signal: ac.signal }));
    await r.next();
    assert.equal(openWatchHandles(), before + 3);
    ac.abort();
    await waitFor(() => openWatchHandles() === before, 3000);

    const r2 = new StreamReader(fsClient(t.url).watchDir({ path: dir, recursive: true }));
    await r2.next();
    assert.equal(openWatchHandles(), before + 3);
    await rm(dir, { recursive: true });
    await assert.rejects(async () => {
      for (;;) await r2.next();
    }, /stream ended/);
    assert.equal(openWatchHandles(), before);
  });
});
