import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PLATFORM_TEAM_ID } from "../db/seeds.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { BUILD_QUEUE_CHANNEL, type BuildLogEntry, createBuildsRepo, type NewBuild } from "./builds.repo.js";

function newBuild(name = "py"): NewBuild {
  return { name, recipe: ["RUN apt-get install -y python3", "USER app"], vcpus: 2, memoryMb: 2048, totalSteps: 9 };
}

function logEntry(step: number): BuildLogEntry {
  return { step, phase: "recipe", cmd: "echo hi", stdout: "hi\n", stderr: "", exit: 0, ok: true, elapsedMs: 12 };
}

for (const backend of databaseBackends) {
  describe(`builds repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });
    beforeEach(async () => {
      // Each test starts with an empty queue.
      await db.query("UPDATE template_builds SET status = 'cancelled' WHERE status = 'pending'");
    });

    test("insert queues a pending platform build and announces it", async () => {
      const builds = createBuildsRepo(db);
      const heard: string[] = [];
      const stop = await db.listen(BUILD_QUEUE_CHANNEL, (id) => heard.push(id));
      try {
        const build = await builds.insert(newBuild());
        assert.equal(build.status, "pending");
        assert.equal(build.baseTemplate, "minimal");
        assert.deepEqual(build.recipe, ["RUN apt-get install -y python3", "USER app"]);
        assert.deepEqual(build.logs, []);
        assert.equal(build.teamId, PLATFORM_TEAM_ID);
        assert.match(build.templateId, /^[0-9a-f-]{36}$/);
        assert.equal(build.claimedBy, "");
        assert.deepEqual(await builds.getById(build.id), build);
        const deadline = Date.now() + 5000;
        while (!heard.includes(build.id)) {
          assert.ok(Date.now() < deadline, "NOTIFY not received");
          await sleep(10);
        }
      } finally {
        await stop();
      }
    });

    test("claimNext takes the oldest pending build, once", async () => {
      const builds = createBuildsRepo(db);
      const older = await builds.insert(newBuild("older"));
      await db.query("UPDATE template_builds SET created_at = now() - interval '1 minute' WHERE id = $1", [older.id]);
      const newer = await builds.insert(newBuild("newer"));
      const first = await builds.claimNext("worker-a");
      assert.equal(first?.id, older.id);
      assert.equal(first?.status, "running");
      assert.equal(first?.claimedBy, "worker-a");
      assert.ok(first?.startedAt instanceof Date && first.heartbeatAt instanceof Date);
      assert.equal((await builds.claimNext("worker-b"))?.id, newer.id);
      assert.equal(await builds.claimNext("worker-c"), undefined);
    });

    test("concurrent claimers never get the same build", async () => {
      const builds = createBuildsRepo(db);
      const ids = [(await builds.insert(newBuild())).id, (await builds.insert(newBuild())).id];
      const claims = await Promise.all(["a", "b", "c"].map((w) => builds.claimNext(w)));
      const claimed = claims.flatMap((c) => (c ? [c.id] : []));
      assert.deepEqual(claimed.sort(), ids.sort());
    });

    test("progress: sandbox, logs appended in order while running, defaults", async () => {
      const builds = createBuildsRepo(db);
      const build = await builds.insert(newBuild());
      assert.equal(await builds.appendLog(build.id, 1, logEntry(1)), false, "not running yet");
      await builds.claimNext("w");
      const sandbox = randomUUID();
      const host = randomUUID();
      assert.equal(await builds.setSandbox(build.id, sandbox, host), true);
      assert.equal(await builds.appendLog(build.id, 1, logEntry(1)), true);
      assert.equal(await builds.appendLog(build.id, 2, logEntry(2)), true);
      assert.equal(
        await builds.setDefaults(build.id, {
          defaultUser: "app",
          defaultEnv: { LANG: "C.UTF-8" },
          metadata: { a: "1" },
        }),
        true,
      );
      const row = await builds.getById(build.id);
      assert.deepEqual(row?.logs, [logEntry(1), logEntry(2)]);
      assert.equal(row?.currentStep, 2);
      assert.equal(row?.sandboxId, sandbox);
      assert.equal(row?.hostId, host);
      assert.equal(row?.defaultUser, "app");
      assert.deepEqual(row?.defaultEnv, { LANG: "C.UTF-8" });
      assert.deepEqual(row?.metadata, { a: "1" });
    });

    test("terminal states are final: complete, fail and cancel only leave the states they name", async () => {
      const builds = createBuildsRepo(db);
      const pending = await builds.insert(newBuild());
      assert.equal(await builds.complete(pending.id), false, "a pending build cannot succeed");
      assert.equal(await builds.cancel(pending.id), "pending");
      assert.equal(await builds.cancel(pending.id), undefined);
      assert.equal(await builds.fail(pending.id, "late"), false);

      const running = await builds.insert(newBuild());
      await builds.claimNext("w");
      assert.equal(await builds.complete(running.id), true);
      assert.equal(await builds.cancel(running.id), undefined, "cancel after success changes nothing");
      const done = await builds.getById(running.id);
      assert.equal(done?.status, "success");
      assert.ok(done?.completedAt instanceof Date);

      const failing = await builds.insert(newBuild());
      await builds.claimNext("w");
      assert.equal(await builds.cancel(failing.id), "running");
      assert.equal(await builds.fail(failing.id, "recipe step 3 failed: exit code 1"), false);
      const failed = await builds.insert(newBuild());
      await builds.claimNext("w");
      assert.equal(await builds.fail(failed.id, "recipe step 3 failed: exit code 1"), true);
      assert.equal((await builds.getById(failed.id))?.error, "recipe step 3 failed: exit code 1");
    });

    test("a running build whose worker went silent is failed; a live one is not", async () => {
      const builds = createBuildsRepo(db);
      const silent = await builds.insert(newBuild());
      await builds.claimNext("dead-worker");
      const alive = await builds.insert(newBuild());
      await builds.claimNext("live-worker");
      await db.query("UPDATE template_builds SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1", [
        silent.id,
      ]);
      assert.deepEqual(await builds.failStale(300), [silent.id]);
      assert.equal((await builds.getById(silent.id))?.status, "failed");
      assert.equal((await builds.getById(alive.id))?.status, "running");
    });

    test("archives round-trip bytes, are replaced, deleted, and go with their build", async () => {
      const builds = createBuildsRepo(db);
      const build = await builds.insert(newBuild());
      const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
      await builds.putArchive(build.id, bytes);
      assert.deepEqual(await builds.getArchive(build.id), bytes);
      await builds.putArchive(build.id, new Uint8Array([1, 2, 3]));
      assert.deepEqual(await builds.getArchive(build.id), new Uint8Array([1, 2, 3]));
      assert.equal(await builds.deleteArchive(build.id), true);
      assert.equal(await builds.getArchive(build.id), undefined);
      await builds.putArchive(build.id, new Uint8Array([9]));
      await db.query("DELETE FROM template_builds WHERE id = $1", [build.id]);
      assert.equal(await builds.getArchive(build.id), undefined);
    });

    test("list is newest first", async () => {
      const builds = createBuildsRepo(db);
      const a = await builds.insert(newBuild());
      await db.query("UPDATE template_builds SET created_at = now() - interval '1 day' WHERE id = $1", [a.id]);
      const b = await builds.insert(newBuild());
      const ids = (await builds.list()).map((x) => x.id);
      assert.ok(ids.indexOf(b.id) < ids.indexOf(a.id));
    });

    if (backend.kind === "postgres") {
      test("SKIP LOCKED: two open transactions claim different builds without waiting for each other", async () => {
        const builds = createBuildsRepo(db);
        const first = await builds.insert(newBuild("first"));
        await db.query("UPDATE template_builds SET created_at = now() - interval '1 minute' WHERE id = $1", [first.id]);
        const second = await builds.insert(newBuild("second"));
        let release = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let held: string | undefined;
        const holder = db.transaction(async (tx) => {
          held = (await createBuildsRepo(tx).claimNext("a"))?.id;
          await gate;
        });
        while (held === undefined) await sleep(5);
        let other: string | undefined;
        try {
          other = await db.transaction(async (tx) => {
            // Waiting for the holder's row lock would hit this timeout and fail the test.
            await tx.exec("SET LOCAL lock_timeout = '3s'");
            return (await createBuildsRepo(tx).claimNext("b"))?.id;
          });
        } finally {
          release();
          await holder;
        }
        assert.equal(held, first.id);
        assert.equal(other, second.id);
      });
    }
  });
}
