import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sha256Hex } from "../auth/api-key.js";
import { uniqueEmail } from "../testing/repo-fixtures.js";
import { type AccountsApp, startAccountsApp, TEST_DASHBOARD_URL } from "./testing/accounts-app.js";
import { call, expectError, expectOk } from "./testing/api-client.js";

const RESET = /Reset your Wrenn password/;

describe("self-service routes (/v1/me)", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const login = (email: string, password: string) =>
    call(app.base, "POST", "/v1/auth/login", { json: { email, password } });

  test("GET /v1/me shows the profile, whether a password is set and the linked providers", async () => {
    const s = await app.createUser({ name: "Meg" });
    const me = () => call(app.base, "GET", "/v1/me", { token: s.token });
    assert.deepEqual(expectOk(await me(), "getMe", 200), {
      name: "Meg",
      email: s.user.email,
      has_password: true,
      providers: [],
    });
    await app.store.oauth.link({ provider: "github", providerId: `gh-${s.user.id}`, userId: s.user.id });
    await app.store.oauth.link({ provider: "gitlab-legacy", providerId: "1", userId: s.user.id });
    assert.deepEqual(expectOk<{ providers: string[] }>(await me(), "getMe", 200).providers, ["github"]);
  });

  test("PATCH /v1/me renames and keeps the session in its current team (B.9)", async () => {
    const s = await app.createUser({ name: "Old" });
    const other = await app.createUser();
    await app.store.teams.addMember({ teamId: other.teamUuid, userId: s.user.id, role: "member" });
    const inOther = app.tokenFor(s.user, other.teamUuid, "member");
    const res = await call(app.base, "PATCH", "/v1/me", { token: inOther, json: { name: "  New Name " } });
    const body = expectOk<{ token: string; team_id: string; name: string }>(res, "updateName", 200);
    assert.equal(body.name, "New Name");
    assert.equal(body.team_id, other.teamId, "not the default team");
    const v = app.jwt.verifyUser(body.token);
    assert.ok(v.ok);
    assert.deepEqual([v.claims.team_id, v.claims.role, v.claims.name], [other.teamId, "member", "New Name"]);
    expectError(
      await call(app.base, "PATCH", "/v1/me", { token: s.token, json: { name: "  " } }),
      400,
      "invalid_request",
    );
    expectError(await call(app.base, "PATCH", "/v1/me", { token: s.token, json: { name: 7 } }), 400, "invalid_request");
    assert.equal((await app.store.users.getById(s.user.id))?.name, "New Name");
  });

  test("changing the password needs the current one; the old one stops working; an email tells the owner", async () => {
    const s = await app.createUser();
    const change = (json: unknown) => call(app.base, "POST", "/v1/me/password", { token: s.token, json });
    expectError(
      await change({ current_password: "wrong password", new_password: "brand new password" }),
      401,
      "wrong_password",
    );
    expectError(await change({ new_password: "brand new password" }), 400, "invalid_request");
    expectError(
      await change({
        current_password: s.password,
        new_password: "brand new password",
        confirm_password: "other one!",
      }),
      400,
      "invalid_request",
    );
    expectError(await change({ current_password: s.password, new_password: "short" }), 400, "invalid_request");
    expectOk(await login(s.user.email, s.password), "login", 200);
    expectOk(await change({ current_password: s.password, new_password: "brand new password" }), "changePassword", 204);
    expectError(await login(s.user.email, s.password), 401, "unauthorized");
    expectOk(await login(s.user.email, "brand new password"), "login", 200);
    await app.mail.drain();
    assert.deepEqual(
      app.mailer.to(s.user.email).map((m) => m.subject),
      ["Your Wrenn password was changed"],
    );
  });

  test("a GitHub-only account adds a password by confirming it", async () => {
    const user = await app.store.users.insert({ email: uniqueEmail("gh"), name: "Octo" });
    const team = await app.store.teams.insertWithOwner({
      name: "Octo's",
      slug: `o${user.id.slice(0, 5)}-aaaaaa`,
      ownerId: user.id,
      isDefault: true,
    });
    const token = app.tokenFor(user, team.id, "owner");
    const change = (json: unknown) => call(app.base, "POST", "/v1/me/password", { token, json });
    expectError(await change({ new_password: "first password" }), 400, "invalid_request");
    expectError(
      await change({ new_password: "first password", confirm_password: "different" }),
      400,
      "invalid_request",
    );
    expectOk(
      await change({ new_password: "first password", confirm_password: "first password" }),
      "changePassword",
      204,
    );
    expectOk(await login(user.email, "first password"), "login", 200);
    await app.mail.drain();
    assert.deepEqual(
      app.mailer.to(user.email).map((m) => m.subject),
      ["A password was added to your Wrenn account"],
    );
  });

  test("password reset: always 204, a 15-minute single-use link for active accounts only", async () => {
    const s = await app.createUser();
    const reset = (email: unknown) => call(app.base, "POST", "/v1/me/password/reset", { json: { email } });
    expectOk(await reset(uniqueEmail("nobody")), "requestPasswordReset", 204);
    const pending = await app.store.users.insert({ email: uniqueEmail("pending"), status: "inactive" });
    expectOk(await reset(pending.email), "requestPasswordReset", 204);
    expectOk(await reset(s.user.email.toUpperCase()), "requestPasswordReset", 204);
    await app.mail.drain();
    assert.deepEqual(app.mailer.to(pending.email), []);
    const mail = app.mailer.to(s.user.email).at(-1);
    assert.ok(mail?.button?.url.startsWith(`${TEST_DASHBOARD_URL}/reset-password?token=`));
    const token = app.mailer.tokenFrom(s.user.email, RESET);
    const ttl = await app.db.query<{ ttl: number }>(
      "SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM one_time_tokens WHERE token_hash = $1",
      [sha256Hex(token)],
    );
    assert.deepEqual(ttl.rows, [{ ttl: 900 }]);

    const confirm = (json: unknown) => call(app.base, "POST", "/v1/me/password/reset/confirm", { json });
    expectError(await confirm({ token, new_password: "short" }), 400, "invalid_request");
    expectOk(await confirm({ token, new_password: "after the reset" }), "confirmPasswordReset", 204);
    expectError(await confirm({ token, new_password: "after the reset" }), 400, "invalid_token");
    expectError(await confirm({ token: "f".repeat(64), new_password: "after the reset" }), 400, "invalid_token");
    expectOk(await login(s.user.email, "after the reset"), "login", 200);
    await app.mail.drain();
    assert.equal(app.mailer.to(s.user.email).at(-1)?.subject, "Your Wrenn password was reset");
  });

  test("a newer reset link replaces the older; an expired one is refused", async () => {
    const s = await app.createUser();
    const reset = () => call(app.base, "POST", "/v1/me/password/reset", { json: { email: s.user.email } });
    expectOk(await reset(), "requestPasswordReset", 204);
    await app.mail.drain();
    const first = app.mailer.tokenFrom(s.user.email, RESET);
    expectOk(await reset(), "requestPasswordReset", 204);
    await app.mail.drain();
    const second = app.mailer.tokenFrom(s.user.email, RESET);
    const confirm = (token: string) =>
      call(app.base, "POST", "/v1/me/password/reset/confirm", { json: { token, new_password: "new password 1" } });
    expectError(await confirm(first), 400, "invalid_token");
    await app.db.query("UPDATE one_time_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
      sha256Hex(second),
    ]);
    expectError(await confirm(second), 400, "invalid_token");
    expectOk(await login(s.user.email, s.password), "login", 200);
  });

  test("unlinking a provider: 404 unknown or not linked, 400 when it is the last way to sign in", async () => {
    const s = await app.createUser();
    const unlink = (token: string, provider: string) =>
      call(app.base, "DELETE", `/v1/me/providers/${provider}`, { token });
    expectError(await unlink(s.token, "gitlab"), 404, "provider_not_found");
    expectError(await unlink(s.token, "github"), 404, "not_found");
    expectError(await unlink(s.token, "Bad_Name"), 400, "invalid_request");
    await app.store.oauth.link({ provider: "github", providerId: `p-${s.user.id}`, userId: s.user.id });
    expectOk(await unlink(s.token, "github"), "disconnectProvider", 204);
    assert.deepEqual(await app.store.oauth.listForUser(s.user.id), []);

    const octo = await app.store.users.insert({ email: uniqueEmail("octo"), name: "Octo" });
    const team = await app.store.teams.insertWithOwner({
      name: "T",
      slug: `t${octo.id.slice(0, 5)}-bbbbbb`,
      ownerId: octo.id,
      isDefault: true,
    });
    await app.store.oauth.link({ provider: "github", providerId: `p-${octo.id}`, userId: octo.id });
    expectError(await unlink(app.tokenFor(octo, team.id, "owner"), "github"), 400, "last_login_method");
    assert.equal((await app.store.oauth.listForUser(octo.id)).length, 1);
  });

  test("deleting the account: confirmation, owned teams with members block it, sole-owned teams go", async () => {
    const s = await app.createUser({ name: "Leaving" });
    const del = (json: unknown) => call(app.base, "DELETE", "/v1/me", { token: s.token, json });
    const extra = await app.store.teams.insertWithOwner({
      name: "Side",
      slug: `s${s.user.id.slice(0, 5)}-cccccc`,
      ownerId: s.user.id,
      isDefault: false,
    });
    const mate = await app.createUser();
    await app.store.teams.addMember({ teamId: extra.id, userId: mate.user.id, role: "member" });
    await app.store.apiKeys.insert({
      teamId: s.teamUuid,
      name: "k",
      keyHash: sha256Hex(s.user.id),
      keyPrefix: "wrn_000000",
      createdBy: s.user.id,
    });

    expectError(await del({ confirmation: "someone@else.io" }), 400, "invalid_request");
    expectError(await del({}), 400, "invalid_request");
    expectError(await del({ confirmation: s.user.email }), 409, "owns_team_with_members");
    assert.equal((await app.store.users.getById(s.user.id))?.status, "active", "nothing changed");

    await app.store.teams.removeMember(extra.id, mate.user.id);
    expectOk(await del({ confirmation: ` ${s.user.email.toUpperCase()} ` }), "deleteAccount", 204);
    assert.equal(await app.store.users.getById(s.user.id), undefined);
    const row = await app.db.query<{ status: string }>("SELECT status FROM users WHERE id = $1", [s.user.id]);
    assert.deepEqual(row.rows, [{ status: "deleted" }]);
    assert.deepEqual(app.destroyedTeams.slice(-2).sort(), [s.teamUuid, extra.id].sort());
    assert.equal(await app.store.teams.getById(extra.id), undefined);
    assert.equal(await app.store.apiKeys.getByHash(sha256Hex(s.user.id)), undefined);
    expectError(await call(app.base, "GET", "/v1/me", { token: s.token }), 401, "unauthorized");
    expectError(await login(s.user.email, s.password), 401, "unauthorized");
    await app.mail.drain();
    assert.equal(app.mailer.to(s.user.email).at(-1)?.subject, "Your Wrenn account was deleted");
    assert.ok(await app.store.users.getById(mate.user.id), "others untouched");
  });

  test("account deletion stops when a team's capsules cannot be destroyed", async () => {
    const s = await app.createUser();
    app.capsuleCleanupFailure = new Error("host unreachable");
    try {
      const res = await call(app.base, "DELETE", "/v1/me", { token: s.token, json: { confirmation: s.user.email } });
      expectError(res, 500, "internal_error");
      assert.doesNotMatch(JSON.stringify(res.body), /host unreachable/);
    } finally {
      app.capsuleCleanupFailure = undefined;
    }
    assert.equal((await app.store.users.getById(s.user.id))?.status, "active");
    assert.ok(await app.store.teams.getById(s.teamUuid), "the team is not marked deleted");
  });
});
