/**
 * The host monitor against a real host agent (namespace runtime): capsules
 * are created through the API, then changed behind the control plane's back
 * on the agent (destroyed, auto-paused by the agent's idle timer) or in the
 * database (marked missing or stopped), and one monitor pass must bring the
 * two back in line. The outage case goes through the real heartbeat route.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { createCapsulesRepo } from "../apps/control-plane/src/capsules/capsules.repo.js";
import { HostMonitor } from "../apps/control-plane/src/hosts/host-monitor.js";
import { createHostsRepo } from "../apps/control-plane/src/hosts/hosts.repo.js";
import { parsePublicId, toPublicId } from "../apps/control-plane/src/ids/public-id.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";

const MINUTE = 60_000;

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

function uuidOf(capsuleId: string): string {
  const parsed = parsePublicId("capsule", capsuleId);
  assert.ok(parsed.ok);
  return parsed.uuid;
}

describe("host monitor against a real agent", { skip: stackSkipReason }, () => {
  let s: Stack;
  let monitor: HostMonitor;
  const clock = { skewMs: 0 };

  const statusOf = async (id: string) => (await createCapsulesRepo(s.db).getById(uuidOf(id)))?.status;
  const onAgent = (id: string) => s.agent.agent.manager.list().find((r) => r.id === id)?.status;
  const create = async (timeoutSec = 0) =>
    (await body<{ id: string }>(await s.api("/v1/capsules", json({ timeout_sec: timeoutSec })), 201)).id;

  before(async () => {
    s = await startStack();
    monitor = new HostMonitor({
      db: s.db,
      pool: s.pool,
      audit: s.audit,
      log: new MemoryLogger(),
      // Nothing heartbeats in this stack: a long limit keeps the host fresh unless the clock jumps.
      staleAfterMs: 10 * MINUTE,
      now: () => Date.now() + clock.skewMs,
    });
  });
  after(async () => {
    await monitor?.[Symbol.asyncDispose]();
    await s?.[Symbol.asyncDispose]();
  });

  test("missing but alive comes back running; running but gone from the agent is stopped", {
    timeout: 90_000,
  }, async () => {
    const alive = await create();
    const gone = await create();
    assert.ok(await createCapsulesRepo(s.db).transition(uuidOf(alive), ["running"], "missing"));
    await s.agent.client.destroySandbox({ sandboxId: gone });
    await monitor.runOnce();
    assert.equal(await statusOf(alive), "running");
    assert.equal(await statusOf(gone), "stopped");
    assert.equal(onAgent(alive), "running", "the monitor never touches a live capsule");
  });

  test("auto-paused by the agent's idle timer: paused, audited as a system pause, and resumable", {
    timeout: 90_000,
  }, async () => {
    const idle = await create(1);
    const deadline = Date.now() + 30_000;
    while (onAgent(idle) !== "paused" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(onAgent(idle), "paused", "the agent's reaper paused it");
    assert.equal(await statusOf(idle), "running", "the control plane does not know yet");
    await monitor.runOnce();
    assert.equal(await statusOf(idle), "paused");
    const entry = s.audit.entries.find((e) => e.resourceId === idle && e.action === "pause");
    assert.deepEqual([entry?.actor.type, entry?.status], ["system", "info"]);
    const resumed = await body<{ status: string }>(await s.api(`/v1/capsules/${idle}/resume`, { method: "POST" }), 200);
    assert.equal(resumed.status, "running");
  });

  test("an orphan (stopped in the database, still on the agent) is destroyed", { timeout: 90_000 }, async () => {
    const orphan = await create();
    await createCapsulesRepo(s.db).setStatus(uuidOf(orphan), "stopped");
    await monitor.runOnce();
    assert.equal(onAgent(orphan), undefined);
    assert.equal(await statusOf(orphan), "stopped");
  });

  test("outage: silent host → unreachable, capsule missing; its heartbeat brings both back", {
    timeout: 90_000,
  }, async () => {
    const capsule = await create();
    clock.skewMs = 11 * MINUTE;
    await monitor.runOnce();
    clock.skewMs = 0;
    const hosts = createHostsRepo(s.db);
    assert.equal((await hosts.getById(s.hostId))?.status, "unreachable");
    assert.equal(await statusOf(capsule), "missing");

    const hostId = toPublicId("host", s.hostId);
    const beat = await fetch(`${s.base}/v1/hosts/${hostId}/heartbeat`, {
      method: "POST",
      headers: { "x-host-token": s.cp.jwt.signHost(hostId), "content-type": "application/json" },
    });
    assert.equal(beat.status, 204);
    assert.equal((await hosts.getById(s.hostId))?.status, "online");
    // The heartbeat asks the control plane's own monitor to reconcile the host at once.
    const deadline = Date.now() + 15_000;
    while ((await statusOf(capsule)) !== "running" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await statusOf(capsule), "running");
    assert.equal(onAgent(capsule), "running");
  });
});
