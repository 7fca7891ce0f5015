import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTokensRepo, hashToken, TOKEN_TTL_SECONDS } from "./tokens.repo.js";

for (const backend of databaseBackends) {
  describe(`tokens repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a token is stored only as its hash and expires after its purpose's lifetime", async () => {
      const tokens = createTokensRepo(db);
      const subject = randomUUID();
      const before = Date.now();
      const issued = await tokens.issue("password_reset", subject);
      assert.match(issued.token, /^[0-9a-f]{64}$/);
      const ttl = issued.expiresAt.getTime() - before;
      assert.ok(Math.abs(ttl - TOKEN_TTL_SECONDS.password_reset * 1000) < 60_000, `ttl ${ttl} ms`);
      const { rows } = await db.query<{ tokenHash: string }>(
        `SELECT token_hash AS "tokenHash" FROM one_time_tokens WHERE subject_id = $1`,
        [subject],
      );
      assert.deepEqual(rows, [{ tokenHash: hashToken(issued.token) }]);
      assert.notEqual(rows[0]?.tokenHash, issued.token);
      assert.deepEqual(TOKEN_TTL_SECONDS, { activation: 1800, password_reset: 900, host_registration: 3600 });
    });

    test("consume works once and returns the subject and payload", async () => {
      const tokens = createTokensRepo(db);
      const host = randomUUID();
      const { token } = await tokens.issue("host_registration", host, { payload: { tokenId: "abc" } });
      assert.deepEqual(await tokens.consume("host_registration", token), {
        subjectId: host,
        payload: { tokenId: "abc" },
      });
      assert.equal(await tokens.consume("host_registration", token), undefined);
    });

    test("two racing consumers: exactly one wins", async () => {
      const tokens = createTokensRepo(db);
      const { token } = await tokens.issue("activation", randomUUID());
      const results = await Promise.all([tokens.consume("activation", token), tokens.consume("activation", token)]);
      assert.equal(results.filter((r) => r !== undefined).length, 1);
    });

    test("a token of one purpose is useless for another, and useless once expired", async () => {
      const tokens = createTokensRepo(db);
      const { token } = await tokens.issue("activation", randomUUID());
      assert.equal(await tokens.consume("password_reset", token), undefined);
      await db.query("UPDATE one_time_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
        hashToken(token),
      ]);
      assert.equal(await tokens.consume("activation", token), undefined);
      assert.ok((await tokens.pruneExpired()) >= 1);
      assert.equal(
        (await db.query("SELECT 1 FROM one_time_tokens WHERE token_hash = $1", [hashToken(token)])).rowCount,
        0,
      );
    });

    test("revoking a subject's tokens of one purpose leaves the others", async () => {
      const tokens = createTokensRepo(db);
      const subject = randomUUID();
      const first = await tokens.issue("host_registration", subject);
      const second = await tokens.issue("host_registration", subject);
      const other = await tokens.issue("activation", subject);
      assert.equal(await tokens.revokeForSubject("host_registration", subject), 2);
      assert.equal(await tokens.consume("host_registration", first.token), undefined);
      assert.equal(await tokens.consume("host_registration", second.token), undefined);
      assert.ok(await tokens.consume("activation", other.token));
    });
  });
}
