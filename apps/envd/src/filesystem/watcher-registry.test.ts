import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { EventType } from "@wrenn/protocol/envd/filesystem";
import { useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { codeOf, fsClient } from "./fs-test-client.js";
import { openWatchHandles } from "./watch-tree.js";
import { WatcherRegistry } from "./watcher-registry.js";

describe("CreateWatcher / GetWatcherEvents / RemoveWatcher", { timeout: 20_000 }, () => {
  for (const binary of [false, true]) {
    test(`polling flow (${binary ? "binary" : "JSON"})`, async () => {
      await using t = await useEnvd();
      const before = openWatchHandles();
      const fs = fsClient(t.url, { binary });
      const dir = join(t.dir, "polled");
      await mkdir(join(dir, "sub"), { recursive: true });
      const { watcherId } = await fs.createWatcher({ path: dir, recursive: true, includeEntry: true });
      assert.match(watcherId, /^w-[0-9a-f]{16}$/);
      assert.equal(openWatchHandles(), before + 2);

      await writeFile(join(dir, "sub", "f.txt"), "x");
      await rm(join(dir, "sub", "f.txt"));
      const seen: string[] = [];
      const deadline = Date.now() + 3000;
      while (!seen.includes("REMOVE sub/f.txt")) {
        assert.ok(Date.now() < deadline, `events so far: ${seen.join(", ")}`);
        const { events } = await fs.getWatcherEvents({ watcherId });
        for (const e of events) {
          seen.push(`${EventType[e.type]} ${e.name}`);
          if (e.type === EventType.CREATE) assert.equal(e.entry?.name, "f.txt");
        }
        if (events.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(seen[0], "CREATE sub/f.txt");
      assert.deepEqual((await fs.getWatcherEvents({ watcherId })).events, [], "drained");

      await fs.removeWatcher({ watcherId });
      assert.equal(openWatchHandles(), before);
      assert.equal(await codeOf(fs.getWatcherEvents({ watcherId })), Code.NotFound);
      assert.equal(await codeOf(fs.removeWatcher({ watcherId })), Code.NotFound);
    });
  }

  test("errors: missing directory, unknown id", async () => {
    await using t = await useEnvd();
    const fs = fsClient(t.url);
    assert.equal(await codeOf(fs.createWatcher({ path: join(t.dir, "missing") })), Code.NotFound);
    assert.equal(await codeOf(fs.getWatcherEvents({ watcherId: "w-0000000000000000" })), Code.NotFound);
  });
});

describe("WatcherRegistry bounds", { timeout: 20_000 }, () => {
  test("caps the number of watchers and keeps only the newest events of a slow poller", async () => {
    await using t = await useEnvd();
    const { env } = t.envd;
    const user = env.users.lookup("root");
    const registry = new WatcherRegistry(t.log, { maxWatchers: 2, maxBufferedEvents: 3 });
    try {
      const opts = { env, user, root: t.dir, recursive: false, includeEntry: false, allowNetworkMounts: false };
      const id = await registry.create(opts);
      await registry.create(opts);
      assert.equal(await codeOf(registry.create(opts)), Code.ResourceExhausted);

      for (const n of [1, 2, 3, 4, 5]) await writeFile(join(t.dir, `f${n}`), "");
      // The last event is buffered once the oldest were dropped to make room.
      await writeFile(join(t.dir, "zz-last"), "");
      const names = () => registry.peek(id).events.map((e) => `${EventType[e.type]} ${e.name}`);
      await waitFor(() => names().at(-1) === "CREATE zz-last", 3000);
      assert.deepEqual(names(), ["CREATE f4", "CREATE f5", "CREATE zz-last"]);
      assert.equal(registry.peek(id).dropped, 3);
      assert.equal(registry.drain(id).length, 3);
      assert.ok(t.log.entries.some((e) => e.msg === "watcher buffer full; oldest events dropped"));
    } finally {
      registry.closeAll();
    }
    assert.equal(registry.size, 0);
  });
});

test("shutting envd down releases watchers nobody removed", { timeout: 10_000 }, async () => {
  const before = openWatchHandles();
  {
    await using t = await useEnvd();
    await fsClient(t.url).createWatcher({ path: t.dir, recursive: true });
    assert.ok(openWatchHandles() > before);
  }
  assert.equal(openWatchHandles(), before);
});
