import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { JwtCodec } from "../auth/jwt.js";
import { hashPassword } from "../auth/password.js";
import { toPublicId } from "../ids/public-id.js";
import { uniqueEmail } from "../testing/repo-fixtures.js";
import { type AccountsApp, startAccountsApp, TEST_JWT_SECRET } from "./testing/accounts-app.js";
import { call, expectError, expectOk } from "./testing/api-client.js";

interface AuthBody {
  token: string;
  user_id: string;
  team_id: string;
  email: string;
  name: string;
}

describe("login and switch-team routes", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const login = (email: unknown, password: unknown) =>
    call(app.base, "POST", "/v1/auth/login", { json: { email, password } });

  test("login returns a JWT for the default team with the role and admin flag from the database", async () => {
    const s = await app.createUser({ name: "Lin" });
    const body = expectOk<AuthBody>(await login(s.user.email.toUpperCase(), s.password), "login", 200);
    assert.deepEqual(
      { user_id: body.user_id, team_id: body.team_id, email: body.email, name: body.name },
      { user_id: s.userId, team_id: s.teamId, email: s.user.email, name: "Lin" },
    );
    const v = app.jwt.verifyUser(body.token);
    assert.ok(v.ok);
    assert.equal(v.claims.role, "owner");
    const me = await call(app.base, "GET", "/v1/me", { token: body.token });
    assert.equal(expectOk<{ email: string }>(me, "getMe", 200).email, s.user.email);
  });

  test("wrong password and unknown address get the same 401; status is only told with the right password", async () => {
    const s = await app.createUser();
    const a = expectError(await login(s.user.email, "not the password"), 401, "unauthorized");
    const b = expectError(await login(uniqueEmail("nobody"), "not the password"), 401, "unauthorized");
    assert.equal(a, b);
    await app.store.users.setStatus(s.user.id, "disabled");
    expectError(await login(s.user.email, "not the password"), 401, "unauthorized");
    expectError(await login(s.user.email, s.password), 403, "account_disabled");
  });

  test("an account without a password (GitHub only) cannot log in with any password", async () => {
    const user = await app.store.users.insert({ email: uniqueEmail("gh"), name: "Octo" });
    expectError(await login(user.email, "whatever password"), 401, "unauthorized");
  });

  test("a user with no team gets a personal default team at login; a weaker hash is upgraded", async () => {
    const password = "upgrade my hash please";
    const user = await app.store.users.insert({
      email: uniqueEmail("old"),
      name: "Old Timer",
      passwordHash: await hashPassword(password, { logN: 11, r: 8, p: 1 }),
    });
    const body = expectOk<AuthBody>(await login(user.email, password), "login", 200);
    const team = await app.store.teams.getDefaultForUser(user.id);
    assert.equal(team?.name, "Old Timer's Team");
    assert.equal(body.team_id, toPublicId("team", team?.id ?? ""));
    const stored = await app.store.users.getById(user.id);
    assert.match(stored?.passwordHash ?? "", /^\$scrypt\$ln=10,/);
    expectOk(await login(user.email, password), "login", 200);
  });

  test("a user whose default team was deleted lands in a team they still belong to, else a new one", async () => {
    const owner = await app.createUser();
    const other = await app.createUser();
    await app.store.teams.addMember({ teamId: other.teamUuid, userId: owner.user.id, role: "member" });
    await app.store.teams.softDelete(owner.teamUuid);
    const body = expectOk<AuthBody>(await login(owner.user.email, owner.password), "login", 200);
    assert.equal(body.team_id, other.teamId);
    await app.store.teams.removeMember(other.teamUuid, owner.user.id);
    const fresh = expectOk<AuthBody>(await login(owner.user.email, owner.password), "login", 200);
    assert.notEqual(fresh.team_id, owner.teamId);
    assert.equal((await app.store.teams.getDefaultForUser(owner.user.id))?.role, "owner");
  });

  test("bad login bodies are 400", async () => {
    expectError(await login("", "x"), 400, "invalid_request");
    expectError(await login("a@b.c", 5), 400, "invalid_request");
    expectError(await call(app.base, "POST", "/v1/auth/login", { json: { email: "a@b.c" } }), 400, "invalid_request");
    expectError(await login("a@b.c", "x".repeat(1025)), 400, "invalid_request");
  });

  test("switch-team issues a JWT for another team of the caller with the role from the database", async () => {
    const alice = await app.createUser({ name: "Alice" });
    const bob = await app.createUser({ name: "Bob" });
    await app.store.teams.addMember({ teamId: bob.teamUuid, userId: alice.user.id, role: "admin" });
    const res = await call(app.base, "POST", "/v1/auth/switch-team", {
      token: alice.token,
      json: { team_id: bob.teamId },
    });
    const body = expectOk<AuthBody>(res, "switchTeam", 200);
    assert.equal(body.team_id, bob.teamId);
    assert.equal(body.user_id, alice.userId);
    const v = app.jwt.verifyUser(body.token);
    assert.ok(v.ok);
    assert.equal(v.claims.role, "admin");
    const back = await call(app.base, "POST", "/v1/auth/switch-team", {
      token: body.token,
      json: { team_id: alice.teamId },
    });
    assert.equal(expectOk<AuthBody>(back, "switchTeam", 200).team_id, alice.teamId);
  });

  test("switch-team to a team the caller is not in, or that is deleted, is 404; a bad id is 400", async () => {
    const alice = await app.createUser();
    const carol = await app.createUser();
    const sw = (token: string, team_id: unknown) =>
      call(app.base, "POST", "/v1/auth/switch-team", { token, json: { team_id } });
    expectError(await sw(alice.token, carol.teamId), 404, "not_found");
    expectError(await sw(alice.token, "team-nope"), 400, "invalid_request");
    expectError(await sw(alice.token, `team-${"z".repeat(25)}`), 404, "not_found");
    expectError(await sw(alice.token, 42), 400, "invalid_request");
    await app.store.teams.addMember({ teamId: carol.teamUuid, userId: alice.user.id, role: "member" });
    await app.store.teams.softDelete(carol.teamUuid);
    expectError(await sw(alice.token, carol.teamId), 404, "not_found");
  });

  test("JWT routes refuse absent, malformed, expired, foreign and API-key credentials with 401", async () => {
    const s = await app.createUser();
    const me = (headers: Record<string, string>) => call(app.base, "GET", "/v1/me", { headers });
    expectError(await me({}), 401, "unauthorized");
    expectError(await me({ authorization: "Basic abc" }), 401, "unauthorized");
    expectError(await me({ authorization: "Bearer not.a.jwt" }), 401, "unauthorized");
    const past = new JwtCodec({ secret: TEST_JWT_SECRET, now: () => Date.now() - 7 * 3600_000 });
    const expired = past.signUser({ userId: s.userId, teamId: s.teamId, role: "owner", email: "e@x.io", name: "n" });
    expectError(await me({ authorization: `Bearer ${expired}` }), 401, "unauthorized");
    const forged = new JwtCodec({ secret: "another-secret-another-secret-another-1" }).signUser({
      userId: s.userId,
      teamId: s.teamId,
      role: "owner",
      email: "e@x.io",
      name: "n",
    });
    expectError(await me({ authorization: `Bearer ${forged}` }), 401, "unauthorized");
    expectError(await me({ "x-api-key": `wrn_${"0".repeat(32)}` }), 401, "unauthorized");
    await app.store.users.setStatus(s.user.id, "disabled");
    expectError(await me({ authorization: `Bearer ${s.token}` }), 403, "account_deactivated");
  });
});
