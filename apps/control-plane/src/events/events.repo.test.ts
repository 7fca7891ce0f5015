import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createEventsRepo, EVENTS_CHANNEL } from "./events.repo.js";

function event(type = "capsule.created") {
  return { teamId: randomUUID(), type, payload: { event: type, resource: { id: "cl-1", type: "sandbox" } } };
}

for (const backend of databaseBackends) {
  describe(`events repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    /** Settles every event already due, so each test starts from an empty queue. */
    async function drain() {
      const events = createEventsRepo(db);
      for (const e of await events.claim({ limit: 1000, leaseSeconds: 60 })) await events.markDelivered(e.id);
    }

    test("publish stores the event and announces its id; a rolled-back publish leaves nothing", async () => {
      const events = createEventsRepo(db);
      const heard: string[] = [];
      const stop = await db.listen(EVENTS_CHANNEL, (payload) => heard.push(payload));
      try {
        const id = await events.publish(event());
        const deadline = Date.now() + 5000;
        while (!heard.includes(String(id))) {
          assert.ok(Date.now() < deadline, "NOTIFY not received");
          await sleep(10);
        }
        const stored = await events.getById(id);
        assert.equal(stored?.status, "pending");
        assert.deepEqual(stored?.payload, { event: "capsule.created", resource: { id: "cl-1", type: "sandbox" } });
        let rolledBack = 0;
        await assert.rejects(
          db.transaction(async (tx) => {
            rolledBack = await createEventsRepo(tx).publish(event());
            throw new Error("abort");
          }),
        );
        await sleep(100);
        assert.equal(await events.getById(rolledBack), undefined);
        assert.ok(!heard.includes(String(rolledBack)));
      } finally {
        await stop();
      }
    });

    test("claims are oldest first, leased, and settled once", async () => {
      await drain();
      const events = createEventsRepo(db);
      const ids = [await events.publish(event()), await events.publish(event()), await events.publish(event())];
      const first = await events.claim({ limit: 2, leaseSeconds: 60 });
      assert.deepEqual(
        first.map((e) => [e.id, e.attempts]),
        [
          [ids[0], 1],
          [ids[1], 1],
        ],
      );
      assert.deepEqual(
        (await events.claim({ limit: 10, leaseSeconds: 60 })).map((e) => e.id),
        [ids[2]],
      );
      assert.deepEqual(await events.claim({ limit: 10, leaseSeconds: 60 }), [], "all leased");
      const [a = 0, b = 0, c = 0] = ids;
      assert.equal(await events.markDelivered(a), true);
      assert.equal(await events.markDelivered(a), false);
      assert.equal(await events.markFailed(b, "webhook answered 500"), true);
      assert.equal((await events.getById(b))?.status, "failed");
      // The dispatcher holding c dies: once its lease ends, c is claimable again.
      await db.query("UPDATE events SET locked_until = now() - interval '1 second' WHERE id = $1", [c]);
      assert.deepEqual(
        (await events.claim({ limit: 10, leaseSeconds: 60 })).map((e) => [e.id, e.attempts]),
        [[c, 2]],
      );
    });

    test("retryLater hides the event until its delay passes and keeps the error", async () => {
      await drain();
      const events = createEventsRepo(db);
      const id = await events.publish(event());
      await events.claim({ limit: 1, leaseSeconds: 60 });
      assert.equal(await events.retryLater(id, 3600, "timeout"), true);
      assert.deepEqual(await events.claim({ limit: 10, leaseSeconds: 60 }), []);
      await db.query("UPDATE events SET available_at = now() - interval '1 second' WHERE id = $1", [id]);
      const [again] = await events.claim({ limit: 10, leaseSeconds: 60 });
      assert.equal(again?.id, id);
      assert.equal(again?.attempts, 2);
      assert.equal((await events.getById(id))?.lastError, "timeout");
    });

    test("concurrent claimers get disjoint events", async () => {
      await drain();
      const events = createEventsRepo(db);
      for (let i = 0; i < 6; i++) await events.publish(event());
      const batches = await Promise.all([1, 2, 3].map(() => events.claim({ limit: 2, leaseSeconds: 60 })));
      const claimed = batches.flat().map((e) => e.id);
      assert.equal(claimed.length, 6);
      assert.equal(new Set(claimed).size, 6);
    });

    test("settled events are pruned after the retention", async () => {
      await drain();
      const events = createEventsRepo(db);
      const old = await events.publish(event());
      const recent = await events.publish(event());
      await events.claim({ limit: 10, leaseSeconds: 60 });
      await events.markDelivered(old);
      await events.markDelivered(recent);
      await db.query("UPDATE events SET finished_at = now() - interval '8 days' WHERE id = $1", [old]);
      assert.ok((await events.pruneFinished(7)) >= 1);
      assert.equal(await events.getById(old), undefined);
      assert.ok(await events.getById(recent));
    });

    if (backend.kind === "postgres") {
      test("SKIP LOCKED: a second transaction claims around rows locked by an open one without waiting", async () => {
        await drain();
        const events = createEventsRepo(db);
        const [a, b] = [await events.publish(event()), await events.publish(event())];
        let release = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let firstClaimed: number[] = [];
        const holder = db.transaction(async (tx) => {
          firstClaimed = (await createEventsRepo(tx).claim({ limit: 1, leaseSeconds: 60 })).map((e) => e.id);
          await gate;
        });
        while (firstClaimed.length === 0) await sleep(5);
        let second: number[];
        try {
          // Without SKIP LOCKED this would wait for `holder`; the lock timeout turns that into a failure.
          second = await db.transaction(async (tx) => {
            await tx.exec("SET LOCAL lock_timeout = '3s'");
            return (await createEventsRepo(tx).claim({ limit: 1, leaseSeconds: 60 })).map((e) => e.id);
          });
        } finally {
          release();
          await holder;
        }
        assert.deepEqual(firstClaimed, [a]);
        assert.deepEqual(second, [b]);
      });
    }
  });
}
