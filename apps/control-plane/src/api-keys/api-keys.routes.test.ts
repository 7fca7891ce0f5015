import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AccountsApp, startAccountsApp } from "../accounts/testing/accounts-app.js";
import { call, expectError, expectOk } from "../accounts/testing/api-client.js";
import { sha256Hex } from "../auth/api-key.js";

interface KeyJson {
  id: string;
  team_id: string;
  name: string;
  key_prefix: string;
  created_by: string;
  created_at: string;
  last_used?: string;
  creator_email?: string;
  key?: string;
}

describe("API key routes", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const create = (token: string, json?: unknown) => call(app.base, "POST", "/v1/api-keys", { token, json: json ?? {} });
  const list = (token: string) => call(app.base, "GET", "/v1/api-keys", { token });
  const revoke = (token: string, id: string) => call(app.base, "DELETE", `/v1/api-keys/${id}`, { token });

  test("create shows the plaintext once; only its SHA-256 is stored; list shows prefix and creator", async () => {
    const s = await app.createUser();
    const created = expectOk<KeyJson>(await create(s.token, { name: " ci deploy " }), "createAPIKey", 201);
    assert.match(created.key ?? "", /^wrn_[0-9a-f]{32}$/);
    assert.equal(created.key_prefix, created.key?.slice(0, 10));
    assert.deepEqual([created.name, created.team_id, created.created_by], ["ci deploy", s.teamId, s.userId]);
    assert.equal(created.last_used, undefined);
    const stored = await app.db.query<{ key_hash: string }>(
      "SELECT key_hash FROM team_api_keys WHERE key_prefix = $1",
      [created.key_prefix],
    );
    assert.deepEqual(stored.rows, [{ key_hash: sha256Hex(created.key ?? "") }]);

    const unnamed = expectOk<KeyJson>(await create(s.token), "createAPIKey", 201);
    assert.equal(unnamed.name, "Unnamed API Key");
    const blank = expectOk<KeyJson>(await create(s.token, { name: "   " }), "createAPIKey", 201);
    assert.equal(blank.name, "Unnamed API Key");

    const listed = expectOk<KeyJson[]>(await list(s.token), "listAPIKeys", 200);
    assert.deepEqual(
      listed.map((k) => [k.id, k.creator_email, "key" in k]),
      [
        [blank.id, s.user.email, false],
        [unnamed.id, s.user.email, false],
        [created.id, s.user.email, false],
      ],
    );
    const audit = app.audit.entries.filter((e) => e.resourceId === created.id);
    assert.deepEqual(
      audit.map((e) => [e.action, e.status, e.scope ?? "team", e.metadata]),
      [["create", "success", "team", { name: "ci deploy" }]],
    );
  });

  test("bad names are refused and create nothing", async () => {
    const s = await app.createUser();
    expectError(await create(s.token, { name: 5 }), 400, "invalid_request");
    expectError(await create(s.token, { name: "x".repeat(101) }), 400, "invalid_request");
    expectError(await call(app.base, "POST", "/v1/api-keys", { token: s.token, raw: "[" }), 400, "invalid_request");
    assert.deepEqual(expectOk<KeyJson[]>(await list(s.token), "listAPIKeys", 200), []);
  });

  test("a request without a body makes an unnamed key (every field of the body is optional)", async () => {
    const s = await app.createUser();
    const made = expectOk<KeyJson>(
      await call(app.base, "POST", "/v1/api-keys", { token: s.token }),
      "createAPIKey",
      201,
    );
    assert.equal(made.name, "Unnamed API Key");
  });

  test("keys are scoped to the JWT's team: another team's key is 404 and stays", async () => {
    const a = await app.createUser();
    const b = await app.createUser();
    const bKey = expectOk<KeyJson>(await create(b.token, { name: "b" }), "createAPIKey", 201);
    assert.deepEqual(expectOk<KeyJson[]>(await list(a.token), "listAPIKeys", 200), []);
    expectError(await revoke(a.token, bKey.id), 404, "not_found");
    expectError(await revoke(a.token, "key-bad"), 400, "invalid_request");
    expectError(await revoke(a.token, `key-${"z".repeat(25)}`), 404, "not_found");
    assert.equal(expectOk<KeyJson[]>(await list(b.token), "listAPIKeys", 200).length, 1);
  });

  test("members revoke their own keys; owners and admins revoke any; a revoked key stops working", async () => {
    const owner = await app.createUser();
    const admin = await app.createUser();
    const member = await app.createUser();
    await app.store.teams.addMember({ teamId: owner.teamUuid, userId: admin.user.id, role: "admin" });
    await app.store.teams.addMember({ teamId: owner.teamUuid, userId: member.user.id, role: "member" });
    const adminToken = app.tokenFor(admin.user, owner.teamUuid, "admin");
    const memberToken = app.tokenFor(member.user, owner.teamUuid, "member");

    const ownerKey = expectOk<KeyJson>(await create(owner.token, { name: "owner" }), "createAPIKey", 201);
    const memberKey = expectOk<KeyJson>(await create(memberToken, { name: "member" }), "createAPIKey", 201);
    const memberKey2 = expectOk<KeyJson>(await create(memberToken, { name: "member 2" }), "createAPIKey", 201);
    assert.equal(memberKey.team_id, owner.teamId);
    assert.equal(expectOk<KeyJson[]>(await list(memberToken), "listAPIKeys", 200).length, 3, "members see all keys");

    assert.match(
      expectError(await revoke(memberToken, ownerKey.id), 403, "forbidden"),
      /only the API keys they created/,
    );
    expectOk(await revoke(memberToken, memberKey.id), "deleteAPIKey", 204);
    expectOk(await revoke(adminToken, memberKey2.id), "deleteAPIKey", 204);
    expectOk(await revoke(adminToken, ownerKey.id), "deleteAPIKey", 204);
    expectError(await revoke(adminToken, ownerKey.id), 404, "not_found");
    assert.equal(await app.store.apiKeys.getByHash(sha256Hex(ownerKey.key ?? "")), undefined);
    assert.deepEqual(expectOk<KeyJson[]>(await list(owner.token), "listAPIKeys", 200), []);
    const revoked = app.audit.entries.filter((e) => e.action === "revoke" && e.teamId === owner.teamUuid);
    assert.deepEqual(
      revoked.map((e) => [e.resourceId, e.status, e.actor.id]),
      [
        [memberKey.id, "warning", member.userId],
        [memberKey2.id, "warning", admin.userId],
        [ownerKey.id, "warning", admin.userId],
      ],
    );
  });

  test("a key whose creator is gone lists with an empty creator; last use is shown once recorded", async () => {
    const owner = await app.createUser();
    const temp = await app.createUser();
    await app.store.teams.addMember({ teamId: owner.teamUuid, userId: temp.user.id, role: "member" });
    const key = expectOk<KeyJson>(
      await create(app.tokenFor(temp.user, owner.teamUuid, "member"), { name: "orphan" }),
      "createAPIKey",
      201,
    );
    await app.store.apiKeys.touchLastUsed((await app.store.apiKeys.getByHash(sha256Hex(key.key ?? "")))?.id ?? "");
    await app.store.users.hardDelete(temp.user.id);
    const [listed] = expectOk<KeyJson[]>(await list(owner.token), "listAPIKeys", 200);
    assert.equal(listed?.created_by, "");
    assert.equal(listed?.creator_email, undefined);
    assert.ok(listed?.last_used, "last_used is present once the key was used");
  });

  test("absent or invalid credentials are 401", async () => {
    expectError(await call(app.base, "GET", "/v1/api-keys"), 401, "unauthorized");
    expectError(await call(app.base, "POST", "/v1/api-keys", { json: {} }), 401, "unauthorized");
    expectError(await call(app.base, "DELETE", `/v1/api-keys/key-${"0".repeat(25)}`), 401, "unauthorized");
    expectError(await list("garbage"), 401, "unauthorized");
  });
});
