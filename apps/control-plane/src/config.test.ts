import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "./config.js";

const base = {
  JWT_SECRET: "s".repeat(32),
  WRENN_ENCRYPTION_KEY: "ab".repeat(32),
};

describe("loadConfig", () => {
  test("defaults: port 8080, /var/lib/wrenn, embedded database, localhost domain, outbox mail", () => {
    const c = loadConfig(base);
    assert.equal(c.port, 8080);
    assert.equal(c.wrennDir, "/var/lib/wrenn");
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.pgliteDir, "/var/lib/wrenn/pgdata");
    assert.equal(c.domain, "localhost");
    assert.equal(c.publicUrl, "http://localhost:8080");
    assert.equal(c.dashboardUrl, "http://localhost:8080");
    assert.deepEqual(c.mail, { kind: "outbox", path: "/var/lib/wrenn/outbox.jsonl", from: "noreply@wrenn.dev" });
    assert.equal(c.github, undefined);
    assert.equal(c.encryptionKey.length, 32);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.mail), "deep-frozen");
  });

  test("reads every documented variable", () => {
    const c = loadConfig({
      ...base,
      WRENN_PORT: "9725",
      WRENN_DIR: "/srv/wrenn",
      DATABASE_URL: "postgres://u:p@127.0.0.1:5432/w",
      WRENN_DOMAIN: "Sbx.Example.com",
      WRENN_PUBLIC_URL: "https://api.example.com/",
      OAUTH_REDIRECT_URL: "https://app.example.com",
      OAUTH_GITHUB_CLIENT_ID: "id",
      OAUTH_GITHUB_CLIENT_SECRET: "secret",
      SMTP_HOST: "smtp.example.com",
      SMTP_PORT: "465",
      SMTP_USERNAME: "u",
      SMTP_PASSWORD: "p",
      LOG_LEVEL: "DEBUG",
    });
    assert.equal(c.port, 9725);
    assert.equal(c.databaseUrl, "postgres://u:p@127.0.0.1:5432/w");
    assert.equal(c.domain, "sbx.example.com");
    assert.equal(c.publicUrl, "https://api.example.com");
    assert.deepEqual(c.github, { clientId: "id", clientSecret: "secret" });
    assert.equal(c.mail.kind, "smtp");
    assert.equal(c.mail.kind === "smtp" ? c.mail.port : 0, 465);
    assert.equal(c.logLevel, "debug");
  });

  test("lists every problem at once without echoing secret values", () => {
    const secret = "tooshort-secret";
    assert.throws(
      () =>
        loadConfig({
          JWT_SECRET: secret,
          WRENN_ENCRYPTION_KEY: "xyz",
          WRENN_PORT: "70000",
          WRENN_DIR: "relative/dir",
          DATABASE_URL: "mysql://x",
          OAUTH_GITHUB_CLIENT_ID: "only-id",
          LOG_LEVEL: "loud",
          WRENN_MAIL: "smtp",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 8, err.message);
        assert.ok(!err.message.includes(secret));
        for (const name of ["JWT_SECRET", "WRENN_ENCRYPTION_KEY", "WRENN_PORT", "WRENN_DIR", "DATABASE_URL"]) {
          assert.match(err.message, new RegExp(name));
        }
        return true;
      },
    );
  });
});
