import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AccountsApp, startAccountsApp, type TestSession } from "../accounts/testing/accounts-app.js";
import { call, expectError, expectOk } from "../accounts/testing/api-client.js";
import { sha256Hex } from "../auth/api-key.js";
import { toPublicId } from "../ids/public-id.js";

interface TeamJson {
  id: string;
  name: string;
  slug: string;
  is_byoc: boolean;
  created_at: string;
  role?: string;
}
interface MemberJson {
  user_id: string;
  name: string;
  email: string;
  role: string;
  joined_at: string;
}

describe("team routes", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  /** An owner's team with an admin and a member, each with a JWT for that team. */
  async function crew() {
    const owner = await app.createUser({ name: "Owner" });
    const admin = await app.createUser({ name: "Admin" });
    const member = await app.createUser({ name: "Member" });
    await app.store.teams.addMember({ teamId: owner.teamUuid, userId: admin.user.id, role: "admin" });
    await app.store.teams.addMember({ teamId: owner.teamUuid, userId: member.user.id, role: "member" });
    return {
      team: owner.teamId,
      teamUuid: owner.teamUuid,
      owner,
      admin: { ...admin, token: app.tokenFor(admin.user, owner.teamUuid, "admin") },
      member: { ...member, token: app.tokenFor(member.user, owner.teamUuid, "member") },
    };
  }

  test("create, list and get: the creator owns the new team; teams list the caller's role", async () => {
    const s = await app.createUser({ name: "Tess" });
    const created = expectOk<TeamJson>(
      await call(app.base, "POST", "/v1/teams", { token: s.token, json: { name: "Rocket Lab" } }),
      "createTeam",
      201,
    );
    assert.equal(created.name, "Rocket Lab");
    assert.equal(created.role, "owner");
    assert.match(created.slug, /^[0-9a-f]{6}-[0-9a-f]{6}$/);
    const listed = expectOk<TeamJson[]>(await call(app.base, "GET", "/v1/teams", { token: s.token }), "listTeams", 200);
    assert.deepEqual(
      listed.map((t) => [t.name, t.role]),
      [
        ["Tess's Team", "owner"],
        ["Rocket Lab", "owner"],
      ],
    );
    assert.equal((await app.store.teams.getDefaultForUser(s.user.id))?.name, "Tess's Team", "still the default");
    await app.mail.drain();
    assert.equal(app.mailer.to(s.user.email).at(-1)?.subject, 'Your team "Rocket Lab" is ready');
    const detail = expectOk<{ team: TeamJson; members: MemberJson[] }>(
      await call(app.base, "GET", `/v1/teams/${s.teamId}`, { token: s.token }),
      "getTeam",
      200,
    );
    assert.equal(detail.team.id, s.teamId);
    assert.deepEqual(
      detail.members.map((m) => [m.user_id, m.role]),
      [[s.userId, "owner"]],
    );
  });

  test("bad team names are refused and create nothing", async () => {
    const s = await app.createUser();
    for (const name of ["", "   ", "<script>", "x".repeat(129), 5]) {
      expectError(
        await call(app.base, "POST", "/v1/teams", { token: s.token, json: { name } }),
        400,
        "invalid_request",
      );
    }
    expectError(await call(app.base, "POST", "/v1/teams", { token: s.token, json: {} }), 400, "invalid_request");
    const huge = JSON.stringify({ name: "Big", pad: "x".repeat(2 * 1024 * 1024) });
    expectError(await call(app.base, "POST", "/v1/teams", { token: s.token, raw: huge }), 413, "too_large");
    // Credentials are checked before the body is read.
    expectError(await call(app.base, "POST", "/v1/teams", { raw: huge }), 401, "unauthorized");
    assert.equal((await app.store.teams.listForUser(s.user.id)).length, 1);
  });

  test("every {id} route refuses another team than the JWT's with 403, even one the caller belongs to", async () => {
    const c = await crew();
    const elsewhere = await app.createUser();
    await app.store.teams.addMember({ teamId: elsewhere.teamUuid, userId: c.owner.user.id, role: "admin" });
    const t = elsewhere.teamId;
    const uid = elsewhere.userId;
    const requests: Array<[string, string, unknown]> = [
      ["GET", `/v1/teams/${t}`, undefined],
      ["PATCH", `/v1/teams/${t}`, { name: "Hijack" }],
      ["DELETE", `/v1/teams/${t}`, undefined],
      ["GET", `/v1/teams/${t}/members`, undefined],
      ["POST", `/v1/teams/${t}/members`, { email: c.member.user.email }],
      ["PATCH", `/v1/teams/${t}/members/${uid}`, { role: "member" }],
      ["DELETE", `/v1/teams/${t}/members/${uid}`, undefined],
      ["POST", `/v1/teams/${t}/leave`, undefined],
    ];
    for (const [method, path, json] of requests) {
      const res = await call(app.base, method, path, { token: c.owner.token, json });
      assert.match(expectError(res, 403, "forbidden"), /switch-team/, `${method} ${path}`);
      expectError(await call(app.base, method, path, { json }), 401, "unauthorized");
    }
    expectError(await call(app.base, "GET", "/v1/teams/team-bad", { token: c.owner.token }), 400, "invalid_request");
    assert.equal((await app.store.teams.getById(elsewhere.teamUuid))?.name, "Test User's Team");
  });

  test("rename: owner and admin may, member may not; audited with old and new names", async () => {
    const c = await crew();
    const rename = (token: string, name: unknown) =>
      call(app.base, "PATCH", `/v1/teams/${c.team}`, { token, json: { name } });
    expectError(await rename(c.member.token, "Members Rule"), 403, "forbidden");
    expectOk(await rename(c.admin.token, "Admins Rule"), "renameTeam", 204);
    expectOk(await rename(c.owner.token, "Owners Rule"), "renameTeam", 204);
    expectError(await rename(c.owner.token, "bad/name"), 400, "invalid_request");
    assert.equal((await app.store.teams.getById(c.teamUuid))?.name, "Owners Rule");
    const entries = app.audit.entries.filter((e) => e.teamId === c.teamUuid && e.resourceType === "team");
    assert.deepEqual(
      entries.map((e) => [e.action, e.status, e.actor.id, e.metadata]),
      [
        ["rename", "info", c.admin.userId, { old_name: "Owner's Team", new_name: "Admins Rule" }],
        ["rename", "info", c.owner.userId, { old_name: "Admins Rule", new_name: "Owners Rule" }],
      ],
    );
  });

  test("members: list, add by address, change roles, remove; owner rules; audit in admin scope", async () => {
    const c = await crew();
    const newbie = await app.createUser({ name: "Newbie" });
    const members = () => call(app.base, "GET", `/v1/teams/${c.team}/members`, { token: c.member.token });
    assert.deepEqual(
      expectOk<MemberJson[]>(await members(), "listTeamMembers", 200).map((m) => m.role),
      ["owner", "admin", "member"],
    );
    const add = (token: string, email: unknown) =>
      call(app.base, "POST", `/v1/teams/${c.team}/members`, { token, json: { email } });
    expectError(await add(c.member.token, newbie.user.email), 403, "forbidden");
    const added = expectOk<MemberJson>(await add(c.admin.token, newbie.user.email.toUpperCase()), "addTeamMember", 201);
    assert.deepEqual([added.user_id, added.role, added.name], [newbie.userId, "member", "Newbie"]);
    expectError(await add(c.owner.token, newbie.user.email), 409, "conflict");
    expectError(await add(c.owner.token, "nobody-here@example.com"), 404, "not_found");
    expectError(await add(c.owner.token, "not an address"), 400, "invalid_request");
    await app.mail.drain();
    assert.equal(app.mailer.to(newbie.user.email).at(-1)?.subject, `You were added to the team "Owner's Team"`);

    const role = (token: string, uid: string, r: unknown) =>
      call(app.base, "PATCH", `/v1/teams/${c.team}/members/${uid}`, { token, json: { role: r } });
    expectError(await role(c.member.token, newbie.userId, "admin"), 403, "forbidden");
    expectOk(await role(c.admin.token, newbie.userId, "admin"), "updateMemberRole", 204);
    expectError(await role(c.admin.token, c.owner.userId, "member"), 403, "forbidden");
    expectError(await role(c.owner.token, newbie.userId, "owner"), 400, "invalid_request");
    expectError(
      await role(c.owner.token, toPublicId("user", "00000000-0000-4000-8000-000000000001"), "admin"),
      404,
      "not_found",
    );
    assert.equal((await app.store.teams.getMembership(c.teamUuid, newbie.user.id))?.role, "admin");

    const remove = (token: string, uid: string) =>
      call(app.base, "DELETE", `/v1/teams/${c.team}/members/${uid}`, { token });
    expectError(await remove(c.member.token, newbie.userId), 403, "forbidden");
    expectError(await remove(c.admin.token, c.owner.userId), 403, "forbidden");
    expectOk(await remove(c.admin.token, newbie.userId), "removeTeamMember", 204);
    expectError(await remove(c.admin.token, newbie.userId), 404, "not_found");
    assert.equal(await app.store.teams.getMembership(c.teamUuid, newbie.user.id), undefined);

    const audit = app.audit.entries.filter((e) => e.teamId === c.teamUuid && e.resourceType === "member");
    assert.deepEqual(
      audit.map((e) => [e.action, e.status, e.scope, e.resourceId, e.metadata]),
      [
        ["add", "success", "admin", newbie.userId, { email: newbie.user.email, role: "member" }],
        ["role_update", "info", "admin", newbie.userId, { new_role: "admin" }],
        ["remove", "warning", "admin", newbie.userId, undefined],
      ],
    );
  });

  test("a removed member loses access at once and the keys they made for the team are revoked", async () => {
    const c = await crew();
    const key = expectOk<{ key: string }>(
      await call(app.base, "POST", "/v1/api-keys", { token: c.member.token, json: { name: "mine" } }),
      "createAPIKey",
      201,
    );
    assert.ok(await app.store.apiKeys.getByHash(sha256Hex(key.key)), "the key authenticates before");
    expectOk(
      await call(app.base, "DELETE", `/v1/teams/${c.team}/members/${c.member.userId}`, { token: c.owner.token }),
      "removeTeamMember",
      204,
    );
    expectError(await call(app.base, "GET", "/v1/teams", { token: c.member.token }), 403, "forbidden");
    assert.equal(await app.store.apiKeys.getByHash(sha256Hex(key.key)), undefined, "and not after");
  });

  test("leave: members and admins may, the owner may not", async () => {
    const c = await crew();
    const leave = (token: string) => call(app.base, "POST", `/v1/teams/${c.team}/leave`, { token });
    expectError(await leave(c.owner.token), 403, "forbidden");
    expectOk(await leave(c.member.token), "leaveTeam", 204);
    expectOk(await leave(c.admin.token), "leaveTeam", 204);
    const left = await app.store.teams.listMembers(c.teamUuid);
    assert.deepEqual(
      left.map((m) => m.role),
      ["owner"],
    );
    const audit = app.audit.entries.filter((e) => e.teamId === c.teamUuid && e.action === "leave");
    assert.deepEqual(
      audit.map((e) => [e.resourceId, e.status, e.scope]),
      [
        [c.member.userId, "info", "admin"],
        [c.admin.userId, "info", "admin"],
      ],
    );
  });

  test("delete: owner only; capsules destroyed first, keys revoked, team hidden; stops if capsules survive", async () => {
    const c = await crew();
    expectOk(await call(app.base, "POST", "/v1/api-keys", { token: c.owner.token, json: {} }), "createAPIKey", 201);
    const del = (token: string) => call(app.base, "DELETE", `/v1/teams/${c.team}`, { token });
    expectError(await del(c.admin.token), 403, "forbidden");
    expectError(await del(c.member.token), 403, "forbidden");
    app.capsuleCleanupFailure = new Error("agent down");
    try {
      expectError(await del(c.owner.token), 500, "internal_error");
    } finally {
      app.capsuleCleanupFailure = undefined;
    }
    assert.ok(await app.store.teams.getById(c.teamUuid), "still there after the failed clean-up");
    assert.equal((await app.store.apiKeys.listByTeamWithCreator(c.teamUuid)).length, 1);
    expectOk(await del(c.owner.token), "deleteTeam", 204);
    assert.equal(app.destroyedTeams.at(-1), c.teamUuid);
    assert.equal(await app.store.teams.getById(c.teamUuid), undefined);
    assert.equal((await app.store.apiKeys.listByTeamWithCreator(c.teamUuid)).length, 0);
    expectError(await call(app.base, "GET", `/v1/teams/${c.team}`, { token: c.owner.token }), 403, "forbidden");
    const relog = expectOk<{ team_id: string }>(
      await call(app.base, "POST", "/v1/auth/login", {
        json: { email: c.owner.user.email, password: c.owner.password },
      }),
      "login",
      200,
    );
    assert.notEqual(relog.team_id, c.team, "a new personal team replaces the deleted default");
  });

  test("an API key cannot use the JWT-only team routes", async () => {
    const s: TestSession = await app.createUser();
    const key = expectOk<{ key: string }>(
      await call(app.base, "POST", "/v1/api-keys", { token: s.token, json: { name: "ci" } }),
      "createAPIKey",
      201,
    );
    expectError(await call(app.base, "GET", "/v1/teams", { apiKey: key.key }), 401, "unauthorized");
  });
});
