/**
 * Hosts end to end: an admin creates a host over the API, a real agent
 * registers with the token and serves mTLS with the certificate it got, the
 * control plane reaches it with its own client certificate, capsules run on
 * it, heartbeats arrive; the agent stops, the host monitor declares it
 * unreachable and its capsule missing; the agent comes back as the same host
 * from its saved credentials and the capsule is reconciled; a forced delete
 * destroys what is left and terminates the agent.
 *
 * Heartbeats come every 30 s and the host monitor allows 90 s of silence.
 * Rather than shortening the limit below the heartbeat period (the host
 * would flap while the agent is fine), the monitor's clock is moved 91 s
 * ahead once the agent has stopped: the outage is declared at once and the
 * test stays fast and independent of the machine's speed.
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { createCapsulesRepo } from "../apps/control-plane/src/capsules/capsules.repo.js";
import { createHostTokensRepo } from "../apps/control-plane/src/hosts/host-tokens.repo.js";
import { createHostsRepo } from "../apps/control-plane/src/hosts/hosts.repo.js";
import { PLATFORM_TEAM_ID, parsePublicId } from "../apps/control-plane/src/ids/public-id.js";
import { AgentHome } from "./agent-home.js";
import { type ControlPlaneStack, json, stackSkipReason, startControlPlaneStack } from "./stack.js";

interface HostJson {
  id: string;
  status: string;
  address?: string;
  arch?: string;
  cpu_cores?: number;
  memory_mb?: number;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Polls `check` every 50 ms until it holds; fails with `what` after `ms`. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function uuid(kind: "host" | "capsule", id: string): string {
  const parsed = parsePublicId(kind, id);
  assert.ok(parsed.ok, id);
  return parsed.uuid;
}

describe("hosts: registration, mTLS, heartbeats, outage and return, forced delete", { skip: stackSkipReason }, () => {
  let s: ControlPlaneStack;
  let home: AgentHome;
  let hostId: string;
  let capsuleId: string;
  const clock = { skewMs: 0 };

  const asAdmin = (path: string, init: RequestInit = {}) =>
    s.api(path, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${s.admin.token}` },
    });
  const capsuleStatus = async (id: string) => (await createCapsulesRepo(s.db).getById(uuid("capsule", id)))?.status;
  const hostRow = async () => createHostsRepo(s.db).getById(uuid("host", hostId));
  const createCapsule = async () =>
    (await body<{ id: string; status: string }>(await s.api("/v1/capsules", json({ timeout_sec: 0 })), 201)).id;

  before(async () => {
    s = await startControlPlaneStack({
      mtls: true,
      monitor: { intervalMs: 200, rpcTimeoutMs: 5000, now: () => Date.now() + clock.skewMs },
    });
    home = await AgentHome.create();
  });
  after(async () => {
    await home?.[Symbol.asyncDispose]();
    await s?.[Symbol.asyncDispose]();
  });

  test("an admin creates a host; the agent registers with the token and serves mTLS", { timeout: 90_000 }, async () => {
    const created = await body<{ host: HostJson; registration_token: string }>(
      await asAdmin("/v1/hosts", json({ type: "regular", provider: "e2e" })),
      201,
    );
    hostId = created.host.id;
    assert.equal(created.host.status, "pending");
    const { agent } = await home.start(s.base, created.registration_token);
    assert.match(agent.url, /^https:\/\//);

    const host = await body<HostJson>(await asAdmin(`/v1/hosts/${hostId}`), 200);
    assert.equal(host.status, "online");
    assert.equal(host.address, home.address);
    assert.ok((host.cpu_cores ?? 0) > 0 && (host.memory_mb ?? 0) > 0 && host.arch);
    assert.equal((await stat(home.credentialsPath)).mode & 0o777, 0o600);

    // Without the control plane's client certificate the agent refuses the TLS handshake.
    const refused = await new Promise<string>((resolve) => {
      request({ host: "127.0.0.1", port: home.port, path: "/", ca: s.ca.certPem }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      })
        .on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
        .end();
    });
    assert.doesNotMatch(refused, /^answered/);
    assert.equal(s.pool.scheme, "https");
  });

  test("a capsule runs on it over mTLS; heartbeats arrive", { timeout: 90_000 }, async () => {
    capsuleId = await createCapsule();
    assert.equal(await capsuleStatus(capsuleId), "running");
    const exec = await body<{ stdout: string }>(
      await s.api(`/v1/capsules/${capsuleId}/exec`, json({ cmd: "/bin/sh", args: ["-c", "echo over-mtls"] })),
      200,
    );
    assert.equal(exec.stdout, "over-mtls\n");
    // The port proxy reaches the capsule over the agent's mTLS too (Node took the TLS server
    // name from the capsule's Host header and refused the agent's certificate).
    const viaProxy = async (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port: s.port, path, headers: { host: `49983-${capsuleId}.localhost` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    assert.equal(await viaProxy("/health"), 200);
    assert.equal(await viaProxy("/envs"), 401, "envd answered: it wants the capsule's token");

    // Registration stamps the heartbeat time in its transaction (= the token record's used_at);
    // a later time can only come from a heartbeat the agent sent.
    const [record] = await createHostTokensRepo(s.db).listRegistrationRecords(uuid("host", hostId));
    const registeredAt = record?.usedAt?.getTime() ?? Number.POSITIVE_INFINITY;
    await waitFor("a heartbeat after registration", async () => {
      return ((await hostRow())?.lastHeartbeatAt?.getTime() ?? 0) > registeredAt;
    });
    const refusals = home.running?.log.entries.filter((e) => /heartbeat (failed|refused)/.test(e.msg ?? ""));
    assert.deepEqual(refusals, []);
  });

  test("agent stopped: unreachable, capsule missing; back from saved credentials: online, capsule reconciled", {
    timeout: 120_000,
  }, async () => {
    // A stopping agent destroys its capsules; a monitor pass that reached it in that moment
    // would rightly record them stopped. An outage is the agent becoming unreachable with
    // its capsules still there, so the control plane loses its address first.
    await s.db.query("UPDATE hosts SET address = '127.0.0.1:1' WHERE id = $1", [uuid("host", hostId)]);
    s.pool.evict(uuid("host", hostId));
    await home.stop();
    clock.skewMs = 91_000;
    await waitFor("host unreachable", async () => (await hostRow())?.status === "unreachable");
    assert.equal(await capsuleStatus(capsuleId), "missing");
    const viaApi = await body<{ status: string }>(await s.api(`/v1/capsules/${capsuleId}`), 200);
    assert.equal(viaApi.status, "missing");
    const down = s.audit.entries.find((e) => e.resourceId === hostId && e.action === "marked_down");
    assert.deepEqual([down?.teamId, down?.status, down?.actor.type], [PLATFORM_TEAM_ID, "error", "system"]);

    clock.skewMs = 0;
    await s.db.query("UPDATE hosts SET address = $2 WHERE id = $1", [uuid("host", hostId), home.address]);
    const back = await home.start(s.base);
    assert.ok(back.log.entries.some((e) => e.msg === "using saved host credentials"));
    await waitFor("host online again", async () => (await hostRow())?.status === "online");
    assert.ok(s.audit.entries.some((e) => e.resourceId === hostId && e.action === "marked_up"));
    // The stopped agent destroyed its capsules, so the returning host no longer has it.
    await waitFor("missing capsule reconciled", async () => (await capsuleStatus(capsuleId)) === "stopped");
  });

  test("delete: 409 while a capsule runs; forced, the capsule is destroyed and the agent terminates", {
    timeout: 90_000,
  }, async () => {
    const running = home.running;
    assert.ok(running);
    const second = await createCapsule();
    const refused = await body<{ error: { code: string; sandbox_ids: string[] } }>(
      await asAdmin(`/v1/hosts/${hostId}`, { method: "DELETE" }),
      409,
    );
    assert.deepEqual([refused.error.code, refused.error.sandbox_ids], ["has_active_sandboxes", [second]]);

    assert.equal((await asAdmin(`/v1/hosts/${hostId}?force=true`, { method: "DELETE" })).status, 204);
    assert.equal(await capsuleStatus(second), "stopped");
    assert.equal((await asAdmin(`/v1/hosts/${hostId}`)).status, 404);
    assert.equal(await running.agent.stopped, "Terminate RPC");
    assert.deepEqual(running.agent.manager.list(), []);
    await home.stop();
  });
});
