import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createCapsulesRepo } from "../capsules/capsules.repo.js";
import { PLATFORM_TEAM_ID, parsePublicId, toPublicId } from "../ids/public-id.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo } from "./hosts.repo.js";
import { type HostsApp, type HostsTestSession, startHostsApp } from "./testing/hosts-app.js";

interface HostJson {
  id: string;
  type: string;
  team_id?: string;
  team_name?: string;
  provider?: string;
  status: string;
  created_by?: string;
}
interface Created {
  host: HostJson;
  registration_token: string;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function errorCode(res: Response, status: number): Promise<string> {
  return (await body<{ error: { code: string } }>(res, status)).error.code;
}

function uuidOf(publicId: string): string {
  const parsed = parsePublicId("host", publicId);
  assert.ok(parsed.ok);
  return parsed.uuid;
}

describe("host routes", () => {
  let s: HostsApp;
  let admin: HostsTestSession;
  let owner: HostsTestSession;
  let teamAdmin: HostsTestSession;
  let member: HostsTestSession;
  let outsider: HostsTestSession;

  before(async () => {
    s = await startHostsApp();
    admin = await s.session({ isAdmin: true });
    owner = await s.session({ byoc: true });
    teamAdmin = await s.session({ team: owner.team, role: "admin" });
    member = await s.session({ team: owner.team, role: "member" });
    outsider = await s.session({ byoc: true });
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  const createHost = (token: string, json: unknown) => s.call("/v1/hosts", { token, json });

  test("regular hosts: platform admins only; a 64-hex one-time token; audited under the platform team", async () => {
    const created = await body<Created>(
      await createHost(admin.token, { type: "regular", provider: "hetzner", availability_zone: "eu" }),
      201,
    );
    assert.match(created.registration_token, /^[0-9a-f]{64}$/);
    assert.match(created.host.id, /^host-[0-9a-z]{25}$/);
    assert.deepEqual(
      { type: created.host.type, status: created.host.status, provider: created.host.provider },
      { type: "regular", status: "pending", provider: "hetzner" },
    );
    assert.equal(created.host.created_by, toPublicId("user", admin.userId));
    assert.equal(created.host.team_id, undefined);
    const entry = s.audit.entries.find((e) => e.resourceId === created.host.id);
    assert.deepEqual(
      [entry?.action, entry?.scope, entry?.teamId, entry?.actor.type],
      ["create", "admin", PLATFORM_TEAM_ID, "user"],
    );
    const records = await createHostTokensRepo(s.db).listRegistrationRecords(uuidOf(created.host.id));
    assert.equal(records.length, 1);

    assert.equal(await errorCode(await createHost(owner.token, { type: "regular" }), 403), "forbidden");
    assert.equal(
      await errorCode(await createHost(admin.token, { type: "regular", team_id: owner.teamPublicId }), 400),
      "invalid_request",
    );
    assert.equal(await errorCode(await createHost(admin.token, { type: "gpu" }), 400), "invalid_request");
    assert.equal((await s.call("/v1/hosts", { json: { type: "regular" } })).status, 401);
  });

  test("BYOC hosts: the team's owner or admins (in that team) or a platform admin; the team must be BYOC", async () => {
    const byOwner = await body<Created>(
      await createHost(owner.token, { type: "byoc", team_id: owner.teamPublicId }),
      201,
    );
    assert.equal(byOwner.host.team_id, owner.teamPublicId);
    const byTeamAdmin = await createHost(teamAdmin.token, { type: "byoc", team_id: owner.teamPublicId });
    assert.equal(byTeamAdmin.status, 201);
    const byAdmin = await createHost(admin.token, { type: "byoc", team_id: outsider.teamPublicId });
    assert.equal(byAdmin.status, 201);
    const entry = s.audit.entries.find((e) => e.resourceId === byOwner.host.id);
    assert.equal(entry?.teamId, owner.team.id);

    const plain = await s.session();
    const cases: Array<[HostsTestSession, unknown, number]> = [
      [member, { type: "byoc", team_id: owner.teamPublicId }, 403],
      [outsider, { type: "byoc", team_id: owner.teamPublicId }, 403],
      [plain, { type: "byoc", team_id: plain.teamPublicId }, 403],
      [admin, { type: "byoc", team_id: plain.teamPublicId }, 403],
      [owner, { type: "byoc" }, 400],
      [admin, { type: "byoc", team_id: toPublicId("team", "11111111-2222-4333-8444-555555555555") }, 404],
    ];
    for (const [who, json, status] of cases) {
      assert.equal((await createHost(who.token, json)).status, status, JSON.stringify(json));
    }
  });

  test("list: admins see every host with its team's name; others their team's BYOC hosts only", async () => {
    const mine = await body<Created>(await createHost(owner.token, { type: "byoc", team_id: owner.teamPublicId }), 201);
    const all = await body<HostJson[]>(await s.call("/v1/hosts", { token: admin.token }), 200);
    const listed = all.find((h) => h.id === mine.host.id);
    assert.equal(listed?.team_name, owner.team.name);
    assert.ok(all.some((h) => h.type === "regular"));

    for (const who of [owner, member]) {
      const seen = await body<HostJson[]>(await s.call("/v1/hosts", { token: who.token }), 200);
      assert.ok(seen.length >= 1);
      assert.ok(seen.every((h) => h.type === "byoc" && h.team_id === owner.teamPublicId && h.team_name === undefined));
    }
    const theirs = await body<HostJson[]>(await s.call("/v1/hosts", { token: outsider.token }), 200);
    assert.ok(!theirs.some((h) => h.id === mine.host.id));
  });

  test("get and tags: members read their team's host; managing needs owner/admin; others get 404", async () => {
    const { host } = await body<Created>(
      await createHost(owner.token, { type: "byoc", team_id: owner.teamPublicId }),
      201,
    );
    const { host: platform } = await body<Created>(await createHost(admin.token, { type: "regular" }), 201);
    assert.equal(
      (await body<HostJson>(await s.call(`/v1/hosts/${host.id}`, { token: member.token }), 200)).id,
      host.id,
    );
    assert.equal((await s.call(`/v1/hosts/${host.id}`, { token: outsider.token })).status, 404);
    assert.equal((await s.call(`/v1/hosts/${platform.id}`, { token: owner.token })).status, 404);
    assert.equal((await s.call(`/v1/hosts/${platform.id}`, { token: admin.token })).status, 200);
    assert.equal((await s.call("/v1/hosts/host-nope", { token: admin.token })).status, 400);
    const unknown = toPublicId("host", "11111111-2222-4333-8444-555555555555");
    assert.equal(await errorCode(await s.call(`/v1/hosts/${unknown}`, { token: admin.token }), 404), "not_found");

    const tags = `/v1/hosts/${host.id}/tags`;
    assert.equal((await s.call(tags, { token: owner.token, json: { tag: "gpu" } })).status, 204);
    assert.equal((await s.call(tags, { token: teamAdmin.token, json: { tag: "eu-1" } })).status, 204);
    assert.equal((await s.call(tags, { token: owner.token, json: { tag: "gpu" } })).status, 204, "idempotent");
    assert.equal((await s.call(tags, { token: member.token, json: { tag: "x" } })).status, 403);
    assert.equal((await s.call(tags, { token: outsider.token, json: { tag: "x" } })).status, 404);
    assert.equal((await s.call(tags, { token: owner.token, json: { tag: "bad tag!" } })).status, 400);
    assert.deepEqual(await body<string[]>(await s.call(tags, { token: member.token }), 200), ["eu-1", "gpu"]);
    assert.equal((await s.call(`${tags}/gpu`, { method: "DELETE", token: member.token })).status, 403);
    assert.equal((await s.call(`${tags}/gpu`, { method: "DELETE", token: owner.token })).status, 204);
    assert.equal((await s.call(`${tags}/gpu`, { method: "DELETE", token: owner.token })).status, 204, "idempotent");
    assert.deepEqual(await body<string[]>(await s.call(tags, { token: admin.token }), 200), ["eu-1"]);
  });

  test("regenerate token: pending hosts only; the previous token stops working", async () => {
    const created = await body<Created>(await createHost(admin.token, { type: "regular" }), 201);
    const path = `/v1/hosts/${created.host.id}/token`;
    assert.equal((await s.call(path, { method: "POST", token: owner.token })).status, 404);
    const again = await body<Created>(await s.call(path, { method: "POST", token: admin.token }), 201);
    assert.notEqual(again.registration_token, created.registration_token);
    const register = (token: string) => s.call("/v1/hosts/register", { json: { token, address: "127.0.0.1:50051" } });
    assert.equal((await register(created.registration_token)).status, 401, "old token revoked");
    assert.equal((await register(again.registration_token)).status, 201);
    const records = await createHostTokensRepo(s.db).listRegistrationRecords(uuidOf(created.host.id));
    assert.deepEqual(
      records.map((r) => r.usedAt !== null),
      [true, false],
    );
    assert.equal(await errorCode(await s.call(path, { method: "POST", token: admin.token }), 409), "invalid_state");
  });

  test("delete: 409 with the capsule ids while capsules are active; force destroys and cleans up", async () => {
    const created = await body<Created>(
      await createHost(owner.token, { type: "byoc", team_id: owner.teamPublicId }),
      201,
    );
    const hostUuid = uuidOf(created.host.id);
    // Registered at an address nothing listens on: the agent calls fail fast and are tolerated.
    await s.call("/v1/hosts/register", { json: { token: created.registration_token, address: "127.0.0.1:9" } });
    const capsules = createCapsulesRepo(s.db);
    const ids: string[] = [];
    for (const status of ["running", "paused", "stopped"] as const) {
      const row = await capsules.insertPending({
        teamId: owner.team.id,
        hostId: hostUuid,
        template: "minimal",
        templateId: null,
        templateTeamId: null,
        vcpus: 1,
        memoryMb: 512,
        timeoutSec: 0,
        diskSizeMb: 5120,
      });
      await capsules.setStatus(row.id, status);
      ids.push(row.id);
    }
    const active = ids.slice(0, 2).map((id) => toPublicId("capsule", id));
    const path = `/v1/hosts/${created.host.id}`;

    const preview = await body<{ host: HostJson; sandbox_ids: string[] }>(
      await s.call(`${path}/delete-preview`, { token: teamAdmin.token }),
      200,
    );
    assert.deepEqual(preview.sandbox_ids.toSorted(), active.toSorted());
    assert.equal((await s.call(`${path}/delete-preview`, { token: member.token })).status, 403);

    const refused = await body<{ error: { code: string; sandbox_ids: string[] } }>(
      await s.call(path, { method: "DELETE", token: owner.token }),
      409,
    );
    assert.equal(refused.error.code, "has_active_sandboxes");
    assert.deepEqual(refused.error.sandbox_ids.toSorted(), active.toSorted());
    assert.equal((await s.call(path, { method: "DELETE", token: member.token })).status, 403);
    assert.equal((await s.call(path, { method: "DELETE", token: outsider.token })).status, 404);

    assert.equal((await s.call(`${path}?force=true`, { method: "DELETE", token: owner.token })).status, 204);
    assert.equal((await s.call(path, { token: owner.token })).status, 404);
    for (const id of ids) assert.equal((await capsules.getById(id))?.status, "stopped");
    assert.equal(await createHostsRepo(s.db).getById(hostUuid), undefined);
    const entry = s.audit.entries.find((e) => e.resourceId === created.host.id && e.action === "delete");
    assert.deepEqual([entry?.status, entry?.scope, entry?.teamId], ["warning", "admin", owner.team.id]);
  });

  test("delete without capsules needs no force; a never-registered host has no agent to call", async () => {
    const created = await body<Created>(await createHost(admin.token, { type: "regular" }), 201);
    assert.equal((await s.call(`/v1/hosts/${created.host.id}`, { method: "DELETE", token: admin.token })).status, 204);
    const register = await s.call("/v1/hosts/register", {
      json: { token: created.registration_token, address: "127.0.0.1:50051" },
    });
    assert.equal(register.status, 401, "the registration token died with the host");
  });
});
