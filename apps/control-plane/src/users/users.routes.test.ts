import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AccountsApp, startAccountsApp } from "../accounts/testing/accounts-app.js";
import { call, expectError, expectOk } from "../accounts/testing/api-client.js";
import { uniqueTag } from "../testing/repo-fixtures.js";

describe("user search route", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const search = (token: string, email: string) =>
    call(app.base, "GET", `/v1/users/search?email=${encodeURIComponent(email)}`, { token });

  test("prefixes find teammates only; strangers need their exact address (B.14)", async () => {
    const tag = uniqueTag();
    const me = await app.createUser({ email: `me.${tag}@corp.io` });
    const mate = await app.createUser({ email: `mate.${tag}@corp.io` });
    const stranger = await app.createUser({ email: `mate.${tag}@corp.io.evil` });
    await app.store.teams.addMember({ teamId: me.teamUuid, userId: mate.user.id, role: "member" });

    const hits = (res: Awaited<ReturnType<typeof search>>) =>
      expectOk<{ user_id: string; email: string }[]>(res, "searchUsers", 200);
    assert.deepEqual(hits(await search(me.token, `MATE.${tag}@corp`)), [
      { user_id: mate.userId, email: mate.user.email },
    ]);
    assert.deepEqual(hits(await search(me.token, `m_te.${tag}@`)), [], "_ is literal");
    assert.deepEqual(hits(await search(me.token, `%.${tag}@`)), [], "% is literal");
    assert.deepEqual(hits(await search(me.token, stranger.user.email.toUpperCase())), [
      { user_id: stranger.userId, email: stranger.user.email },
    ]);
    await app.store.users.setStatus(stranger.user.id, "disabled");
    assert.deepEqual(hits(await search(me.token, stranger.user.email)), [], "inactive strangers stay hidden");
  });

  test("at most 10 results, by address", async () => {
    const tag = uniqueTag();
    const me = await app.createUser({ email: `boss.${tag}@many.io` });
    const emails: string[] = [];
    for (let i = 0; i < 12; i++) {
      const u = await app.createUser({ email: `crew.${tag}@host${String(i).padStart(2, "0")}.io` });
      await app.store.teams.addMember({ teamId: me.teamUuid, userId: u.user.id, role: "member" });
      emails.push(u.user.email);
    }
    const found = expectOk<{ email: string }[]>(await search(me.token, `crew.${tag}@`), "searchUsers", 200);
    assert.deepEqual(
      found.map((u) => u.email),
      emails.slice(0, 10),
    );
  });

  test("queries shorter than 3 characters or without @ are 400; no credentials is 401", async () => {
    const me = await app.createUser();
    expectError(await search(me.token, "a@"), 400, "invalid_request");
    expectError(await search(me.token, "abc"), 400, "invalid_request");
    expectError(await call(app.base, "GET", "/v1/users/search", { token: me.token }), 400, "invalid_request");
    expectError(await call(app.base, "GET", "/v1/users/search?email=abc%40"), 401, "unauthorized");
  });
});
