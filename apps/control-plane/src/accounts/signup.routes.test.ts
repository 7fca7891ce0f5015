import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sha256Hex } from "../auth/api-key.js";
import { SmtpMailer } from "../mail/smtp-mailer.js";
import { startFakeSmtpServer } from "../mail/testing/fake-smtp-server.js";
import { findPart } from "../mail/testing/mime.js";
import { uniqueEmail } from "../testing/repo-fixtures.js";
import { type AccountsApp, startAccountsApp, TEST_DASHBOARD_URL } from "./testing/accounts-app.js";
import { call, expectError, expectOk } from "./testing/api-client.js";

const ACTIVATION = /Activate your Wrenn account/;
const PASSWORD = "a perfectly fine password";

describe("signup and activation routes", { timeout: 60_000 }, () => {
  let app: AccountsApp;
  before(async () => {
    app = await startAccountsApp();
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
  });

  const signup = (body: unknown) => call(app.base, "POST", "/v1/auth/signup", { json: body });
  const activate = (token: string) => call(app.base, "POST", "/v1/auth/activate", { json: { token } });
  const login = (email: string, password: string) =>
    call(app.base, "POST", "/v1/auth/login", { json: { email, password } });

  test("signup creates an inactive account and mails a 30-minute link; the token is stored hashed", async () => {
    const email = uniqueEmail("signup");
    const res = await signup({ email, password: PASSWORD, name: "  Ada  " });
    assert.deepEqual(expectOk(res, "signup", 201), {
      message: "Account created. Please check your email to activate your account.",
    });
    const user = await app.store.users.getByEmail(email);
    assert.equal(user?.status, "inactive");
    assert.equal(user?.name, "Ada");
    assert.match(user?.passwordHash ?? "", /^\$scrypt\$/);
    await app.mail.drain();
    const [mail] = app.mailer.to(email);
    assert.ok(mail?.button);
    assert.ok(mail.button.url.startsWith(`${TEST_DASHBOARD_URL}/activate?token=`));
    assert.match(mail.message, /expires in 30 minutes/);
    const token = app.mailer.tokenFrom(email, ACTIVATION);
    const rows = await app.db.query<{ token_hash: string; ttl: number }>(
      `SELECT token_hash, extract(epoch FROM expires_at - created_at)::int AS ttl
       FROM one_time_tokens WHERE purpose = 'activation' AND subject_id = $1`,
      [user?.id ?? ""],
    );
    assert.deepEqual(rows.rows, [{ token_hash: sha256Hex(token), ttl: 1800 }]);

    expectError(await login(email, PASSWORD), 403, "account_not_activated");
    expectError(await login(email, "wrong password!"), 401, "unauthorized");
  });

  test("activation signs in with a personal team; the link works once", async () => {
    const email = uniqueEmail("act");
    expectOk(await signup({ email, password: PASSWORD, name: "Grace" }), "signup", 201);
    await app.mail.drain();
    const token = app.mailer.tokenFrom(email, ACTIVATION);
    const body = expectOk<{ token: string; user_id: string; team_id: string; email: string; name: string }>(
      await activate(token),
      "activate",
      200,
    );
    assert.equal(body.email, email);
    assert.equal(body.name, "Grace");
    const verified = app.jwt.verifyUser(body.token);
    assert.ok(verified.ok);
    assert.equal(verified.claims.team_id, body.team_id);
    assert.equal(verified.claims.role, "owner");
    const teams = expectOk<{ name: string; role: string }[]>(
      await call(app.base, "GET", "/v1/teams", { token: body.token }),
      "listTeams",
      200,
    );
    assert.deepEqual(
      teams.map((t) => [t.name, t.role]),
      [["Grace's Team", "owner"]],
    );
    expectError(await activate(token), 400, "invalid_token");
    const again = expectOk<{ team_id: string }>(await login(email, PASSWORD), "login", 200);
    assert.equal(again.team_id, body.team_id, "login lands in the same default team");
  });

  test("a pending signup blocks a new one for 30 minutes, then is replaced", async () => {
    const email = uniqueEmail("cool");
    expectOk(await signup({ email, password: PASSWORD, name: "First" }), "signup", 201);
    expectError(
      await signup({ email: email.toUpperCase(), password: PASSWORD, name: "Second" }),
      409,
      "signup_cooldown",
    );
    await app.mail.drain();
    const oldToken = app.mailer.tokenFrom(email, ACTIVATION);
    await app.db.query("UPDATE users SET created_at = now() - interval '31 minutes' WHERE lower(email) = lower($1)", [
      email,
    ]);
    expectOk(await signup({ email, password: PASSWORD, name: "Second" }), "signup", 201);
    await app.mail.drain();
    const newToken = app.mailer.tokenFrom(email, ACTIVATION);
    assert.notEqual(newToken, oldToken);
    expectError(await activate(oldToken), 400, "invalid_token");
    assert.equal(expectOk<{ name: string }>(await activate(newToken), "activate", 200).name, "Second");
    expectError(await signup({ email, password: PASSWORD, name: "Third" }), 409, "email_taken");
  });

  test("an expired activation link is refused; a link for an active account says so", async () => {
    const email = uniqueEmail("exp");
    expectOk(await signup({ email, password: PASSWORD, name: "Late" }), "signup", 201);
    await app.mail.drain();
    const token = app.mailer.tokenFrom(email, ACTIVATION);
    await app.db.query("UPDATE one_time_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
      sha256Hex(token),
    ]);
    expectError(await activate(token), 400, "invalid_token");
    assert.equal((await app.store.users.getByEmail(email))?.status, "inactive");

    const active = await app.createUser();
    const issued = await app.store.tokens.issue("activation", active.user.id);
    expectError(await activate(issued.token), 400, "already_activated");
    expectError(await activate("not-a-token"), 400, "invalid_token");
  });

  test("a soft-deleted account still holds its address", async () => {
    const gone = await app.createUser();
    await app.store.users.softDelete(gone.user.id);
    expectError(await signup({ email: gone.user.email, password: PASSWORD, name: "X" }), 409, "email_taken");
  });

  test("bad signup input is refused and creates nothing", async () => {
    const email = uniqueEmail("bad");
    const cases: Array<[unknown, string]> = [
      [{ email, password: PASSWORD }, "missing name"],
      [{ email, name: "N" }, "missing password"],
      [{ password: PASSWORD, name: "N" }, "missing email"],
      [{ email, password: "short", name: "N" }, "short password"],
      [{ email, password: "😀".repeat(1000), name: "N" }, "password over 1024 bytes"],
      [{ email: "not-an-email", password: PASSWORD, name: "N" }, "bad email"],
      [{ email, password: 12345678, name: "N" }, "number password"],
      [{ email, password: PASSWORD, name: "   " }, "blank name"],
      [{ email, password: PASSWORD, name: "x".repeat(101) }, "long name"],
      [[email], "array body"],
    ];
    for (const [body, why] of cases) {
      const res = await signup(body);
      assert.equal(res.status, 400, why);
      expectError(res, 400, "invalid_request");
    }
    expectError(await call(app.base, "POST", "/v1/auth/signup", { raw: "{" }), 400, "invalid_request");
    const huge = JSON.stringify({ email, password: PASSWORD, name: "N", pad: "x".repeat(2 * 1024 * 1024) });
    expectError(await call(app.base, "POST", "/v1/auth/signup", { raw: huge }), 413, "too_large");
    assert.equal(await app.store.users.getByEmail(email), undefined, "nothing was created");
    await app.mail.drain();
    assert.deepEqual(app.mailer.to(email), []);
  });
});

describe("the first account to activate administers the platform", { timeout: 60_000 }, () => {
  test("first active user is admin, the second is not", async () => {
    await using app = await startAccountsApp();
    const tokens: string[] = [];
    for (const name of ["Root", "Second"]) {
      const email = uniqueEmail(name.toLowerCase());
      expectOk(
        await call(app.base, "POST", "/v1/auth/signup", { json: { email, password: PASSWORD, name } }),
        "signup",
        201,
      );
      await app.mail.drain();
      const res = await call(app.base, "POST", "/v1/auth/activate", {
        json: { token: app.mailer.tokenFrom(email, ACTIVATION) },
      });
      tokens.push(expectOk<{ token: string }>(res, "activate", 200).token);
    }
    const claims = tokens.map((t) => {
      const v = app.jwt.verifyUser(t);
      assert.ok(v.ok);
      return v.claims.is_admin === true;
    });
    assert.deepEqual(claims, [true, false]);
  });
});

describe("activation mail over SMTP", { timeout: 60_000 }, () => {
  test("the activation link reaches a real SMTP server and activates the account", async () => {
    await using smtp = await startFakeSmtpServer();
    const mailer = new SmtpMailer({
      host: smtp.host,
      port: smtp.port,
      from: "noreply@wrenn.test",
      ignoreTLS: true,
      timeoutMs: 5000,
    });
    await using app = await startAccountsApp({ mailer });
    const email = uniqueEmail("smtp");
    expectOk(
      await call(app.base, "POST", "/v1/auth/signup", { json: { email, password: PASSWORD, name: "Smtp" } }),
      "signup",
      201,
    );
    const received = await smtp.nextMessage();
    assert.deepEqual(received.to, [email]);
    const text = findPart(received.parsed, "text/plain")?.body ?? "";
    const link = /https:\/\/dash\.wrenn\.test\/activate\?token=([0-9a-f]{64})/.exec(text);
    assert.ok(link?.[1], "the text part carries the activation link");
    const res = await call(app.base, "POST", "/v1/auth/activate", { json: { token: link[1] } });
    assert.equal(expectOk<{ email: string }>(res, "activate", 200).email, email);
  });
});
