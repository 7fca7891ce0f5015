import assert from "node:assert/strict";
import { test } from "node:test";
import { PlatformError } from "@wrenn/kit";
import type { NetConfig } from "./net-config.js";
import type { NetworkProvider } from "./network-provider.js";

/** What a contract run needs from one implementation. */
export interface NetworkHarness {
  /** A base config with this run's prefix and address range. */
  readonly config: NetConfig;
  /** A new provider over the same host (a second one models an agent restart). */
  make(config: NetConfig): NetworkProvider;
  /** Names carrying `config.prefix` that exist on the host now. */
  leftovers(): Promise<string[]>;
  /** Host interfaces currently allowed to egress. */
  egressSet(): Promise<string[]>;
}

const rejectsWith = (code: string) => (err: unknown) => err instanceof PlatformError && err.code === code;

/**
 * The behaviour every NetworkProvider must have; run against MemoryNetwork always and
 * against NetnsNetwork as root. Every test ends with nothing of the prefix left.
 * @internal test helper
 */
export function networkContract(name: string, harness: () => NetworkHarness): void {
  const withProvider = async (
    override: Partial<NetConfig>,
    body: (p: NetworkProvider, h: NetworkHarness) => Promise<void>,
  ) => {
    const h = harness();
    const p = h.make({ ...h.config, ...override });
    try {
      await p.start();
      await body(p, h);
    } finally {
      await p[Symbol.asyncDispose]();
    }
    assert.deepEqual(await h.leftovers(), [], `${name}: nothing of the prefix may be left`);
  };

  test(`${name}: hands out distinct /30 slots, from the pool when ready`, () =>
    withProvider({ poolSize: 2 }, async (p) => {
      assert.equal(p.poolReady, 2);
      const a = await p.acquire("sb-a", { allowEgress: false });
      const b = await p.acquire("sb-b", { allowEgress: true });
      assert.notEqual(a.slot, b.slot);
      assert.notEqual(a.guestIp, b.guestIp);
      for (const s of [a, b]) {
        const host = s.hostIp.split(".").map(Number);
        const guest = s.guestIp.split(".").map(Number);
        assert.equal((guest[3] ?? 0) - (host[3] ?? 0), 1);
        assert.equal((host[3] ?? 0) % 4, 1, "host end is the first usable address of a /30");
        assert.equal(s.netnsPath, `/run/netns/${s.name}`);
      }
      assert.deepEqual([a.egress, b.egress], [false, true]);
      assert.deepEqual(
        p
          .held()
          .map((s) => s.sandboxId)
          .sort(),
        ["sb-a", "sb-b"],
      );
      await a[Symbol.asyncDispose]();
      await a[Symbol.asyncDispose]();
      assert.deepEqual(
        p.held().map((s) => s.sandboxId),
        ["sb-b"],
      );
    }));

  test(`${name}: works without a pool, and egress toggles through the egress set`, () =>
    withProvider({ poolSize: 0 }, async (p, h) => {
      assert.equal(p.poolReady, 0);
      const a = await p.acquire("sb-a", { allowEgress: false });
      assert.deepEqual(await h.egressSet(), []);
      await p.setEgress(a, true);
      assert.equal(a.egress, true);
      assert.deepEqual(await h.egressSet(), [a.hostInterface]);
      await p.setEgress(a, true);
      await p.setEgress(a, false);
      assert.equal(a.egress, false);
      assert.deepEqual(await h.egressSet(), []);
      // Concurrent changes apply in call order and the set ends up matching `egress`.
      await Promise.all([p.setEgress(a, true), p.setEgress(a, false), p.setEgress(a, true)]);
      assert.equal(a.egress, true);
      assert.deepEqual(await h.egressSet(), [a.hostInterface]);
      await a[Symbol.asyncDispose]();
      assert.deepEqual(await h.egressSet(), [], "release removes the slot from the egress set");
      await assert.rejects(p.setEgress(a, false), rejectsWith("not_found"));
    }));

  test(`${name}: refuses a second slot per sandbox, exhaustion and aborted acquires`, () =>
    withProvider({ poolSize: 0, slotCount: 2 }, async (p) => {
      const a = await p.acquire("sb-a", { allowEgress: false });
      await assert.rejects(p.acquire("sb-a", { allowEgress: false }), rejectsWith("failed_precondition"));
      await p.acquire("sb-b", { allowEgress: false });
      await assert.rejects(p.acquire("sb-c", { allowEgress: false }), rejectsWith("resource_exhausted"));
      await a[Symbol.asyncDispose]();
      const c = await p.acquire("sb-c", { allowEgress: false });
      assert.equal(c.slot, a.slot, "the freed number is reused once the rest are taken");
      const ac = new AbortController();
      ac.abort(new Error("caller gave up"));
      await assert.rejects(p.acquire("sb-d", { allowEgress: false }, ac.signal), /caller gave up/);
      assert.deepEqual(
        p
          .held()
          .map((s) => s.sandboxId)
          .sort(),
        ["sb-b", "sb-c"],
      );
    }));

  test(`${name}: a restarted agent removes what a crashed one left`, async () => {
    const h = harness();
    const crashed = h.make({ ...h.config, poolSize: 0 });
    await crashed.start();
    await crashed.acquire("sb-left", { allowEgress: true });
    assert.ok((await h.leftovers()).length >= 3, "slot and table exist before the restart");
    // `crashed` is never disposed: the new provider must clean up on its own.
    const fresh = h.make({ ...h.config, poolSize: 1 });
    await fresh.cleanupLeftovers();
    assert.deepEqual(await h.leftovers(), []);
    await fresh.start();
    const s = await fresh.acquire("sb-new", { allowEgress: false });
    assert.equal(s.egress, false);
    assert.deepEqual(await h.egressSet(), [], "no stale egress element survives the restart");
    await fresh[Symbol.asyncDispose]();
    assert.deepEqual(await h.leftovers(), []);
  });

  test(`${name}: disposing the provider releases held and pooled slots and rejects new acquires`, async () => {
    const h = harness();
    const p = h.make({ ...h.config, poolSize: 1 });
    await p.start();
    await p.acquire("sb-a", { allowEgress: true });
    await p[Symbol.asyncDispose]();
    assert.deepEqual(await h.leftovers(), []);
    await assert.rejects(p.acquire("sb-b", { allowEgress: false }), rejectsWith("failed_precondition"));
  });
}
