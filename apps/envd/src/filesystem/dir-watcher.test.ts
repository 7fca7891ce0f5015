import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Code, type ConnectError } from "@connectrpc/connect";
import { useEnvd } from "../testing/test-envd.js";
import { DirWatcher } from "./dir-watcher.js";
import { openWatchHandles } from "./watch-tree.js";

test("a consumer that stops reading makes the watcher fail with ResourceExhausted, not grow", {
  timeout: 10_000,
}, async () => {
  await using t = await useEnvd();
  const before = openWatchHandles();
  const dir = join(t.dir, "busy");
  await mkdir(dir);
  let ended: ConnectError | undefined;
  let onEnded = () => {};
  const endedPromise = new Promise<void>((resolve) => {
    onEnded = resolve;
  });
  await DirWatcher.start({
    env: t.envd.env,
    user: t.envd.env.users.lookup("root"),
    root: dir,
    recursive: false,
    includeEntry: false,
    allowNetworkMounts: false,
    maxPendingEvents: 50,
    // Never resolves: the consumer is stuck.
    onEvent: () => new Promise<void>(() => {}),
    onEnd: (err) => {
      ended = err;
      onEnded();
    },
  });
  for (let i = 0; i < 200 && ended === undefined; i++) await writeFile(join(dir, `f${i}`), "");
  await endedPromise;
  assert.equal(ended?.code, Code.ResourceExhausted);
  assert.equal(openWatchHandles(), before, "the watch is released");
});
