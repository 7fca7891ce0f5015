import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { uniqueEmail } from "../testing/repo-fixtures.js";
import { type AccountsApp, startAccountsApp } from "./testing/accounts-app.js";
import { call, expectError, expectOk } from "./testing/api-client.js";

describe("per-account attempt limits on the password routes", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  let now = Date.now();
  before(async () => {
    app = await startAccountsApp({ now: () => now });
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const login = (email: string, password: string) =>
    call(app.base, "POST", "/v1/auth/login", { json: { email, password } });

  test("ten failed sign-ins lock the account (even for the right password) until the window ends", async () => {
    const s = await app.createUser();
    const bystander = await app.createUser();
    for (let i = 0; i < 10; i++) expectError(await login(s.user.email, `wrong ${i}`), 401, "unauthorized");
    const locked = await login(s.user.email.toUpperCase(), s.password);
    assert.equal(locked.headers.get("retry-after"), "900");
    assert.equal((locked.body as { error: { retry_after_sec: number } }).error.retry_after_sec, 900);
    expectError(locked, 429, "too_many_requests");
    expectOk(await login(bystander.user.email, bystander.password), "login", 200);
    now += 15 * 60_000;
    expectOk(await login(s.user.email, s.password), "login", 200);
  });

  test("a successful sign-in clears the failures before the limit", async () => {
    const s = await app.createUser();
    for (let i = 0; i < 9; i++) expectError(await login(s.user.email, "wrong"), 401, "unauthorized");
    expectOk(await login(s.user.email, s.password), "login", 200);
    for (let i = 0; i < 9; i++) expectError(await login(s.user.email, "wrong"), 401, "unauthorized");
    expectOk(await login(s.user.email, s.password), "login", 200);
  });

  test("unknown addresses are limited the same way (no account probing by the limit)", async () => {
    const nobody = uniqueEmail("nobody");
    for (let i = 0; i < 10; i++) expectError(await login(nobody, "wrong"), 401, "unauthorized");
    expectError(await login(nobody, "wrong"), 429, "too_many_requests");
  });

  test("ten wrong current passwords lock password changes for the user", async () => {
    const s = await app.createUser();
    const change = (current: string) =>
      call(app.base, "POST", "/v1/me/password", {
        token: s.token,
        json: { current_password: current, new_password: "a brand new password" },
      });
    for (let i = 0; i < 10; i++) expectError(await change(`wrong ${i}`), 401, "wrong_password");
    expectError(await change(s.password), 429, "too_many_requests");
    now += 15 * 60_000;
    expectOk(await change(s.password), "changePassword", 204);
  });

  test("five reset mails per address per hour, then 429; the mails sent stop at five", async () => {
    const s = await app.createUser();
    const reset = () => call(app.base, "POST", "/v1/me/password/reset", { json: { email: s.user.email } });
    for (let i = 0; i < 5; i++) expectOk(await reset(), "requestPasswordReset", 204);
    expectError(await reset(), 429, "too_many_requests");
    await app.mail.drain();
    assert.equal(app.mailer.to(s.user.email).filter((m) => /reset/i.test(m.subject)).length, 5);
  });
});
