import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { type AuditCursor, type AuditQuery, createAuditRepo, type NewAuditLog } from "./audit.repo.js";

function entry(teamId: string, fields: Partial<NewAuditLog> = {}): NewAuditLog {
  return {
    teamId,
    actorType: "user",
    actorId: "usr-1",
    actorName: "Ann",
    resourceType: "sandbox",
    action: "create",
    ...fields,
  };
}

for (const backend of databaseBackends) {
  describe(`audit repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    async function allPages(query: Omit<AuditQuery, "cursor">): Promise<string[]> {
      const audit = createAuditRepo(db);
      const ids: string[] = [];
      let cursor: AuditCursor | undefined;
      for (let page = 0; page < 100; page++) {
        const result = await audit.list({ ...query, cursor });
        assert.ok(result.items.length <= query.limit);
        ids.push(...result.items.map((i) => i.id));
        if (!result.next) return ids;
        assert.match(result.next.before, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        cursor = result.next;
      }
      throw new Error("pagination did not end");
    }

    test("insert applies defaults and keeps metadata", async () => {
      const created = await createAuditRepo(db).insert(
        entry(randomUUID(), { actorId: null, actorType: "system", metadata: { template: "minimal" } }),
      );
      assert.equal(created.scope, "team");
      assert.equal(created.status, "success");
      assert.equal(created.actorId, null);
      assert.equal(created.resourceId, null);
      assert.deepEqual(created.metadata, { template: "minimal" });
    });

    test("keyset pagination visits every entry once, even many sharing one microsecond", async () => {
      const audit = createAuditRepo(db);
      const team = randomUUID();
      const times = [
        "2026-01-01T00:00:00.123457Z",
        ...Array(7).fill("2026-01-01T00:00:00.123456Z"),
        "2026-01-01T00:00:00.123455Z",
        "2026-01-01T00:00:00.123999Z",
        "2026-01-01T00:00:00.123001Z",
      ];
      for (const at of times) {
        const { id } = await audit.insert(entry(team));
        await db.query("UPDATE audit_logs SET created_at = $2::timestamptz WHERE id = $1", [id, at]);
      }
      const expected = await db.query<{ id: string }>(
        "SELECT id FROM audit_logs WHERE team_id = $1 ORDER BY created_at DESC, id DESC",
        [team],
      );
      for (const limit of [1, 2, 3, 50]) {
        const ids = await allPages({ teamId: team, scopes: ["team"], limit });
        assert.deepEqual(
          ids,
          expected.rows.map((r) => r.id),
          `limit ${limit}`,
        );
      }
    });

    test("a full last page has no next cursor", async () => {
      const audit = createAuditRepo(db);
      const team = randomUUID();
      for (let i = 0; i < 3; i++) await audit.insert(entry(team));
      const page = await audit.list({ teamId: team, scopes: ["team"], limit: 3 });
      assert.equal(page.items.length, 3);
      assert.equal(page.next, undefined);
    });

    test("filters: scope, resource types and actions; another team's entries never show", async () => {
      const audit = createAuditRepo(db);
      const team = randomUUID();
      await audit.insert(entry(team, { resourceType: "sandbox", action: "create" }));
      await audit.insert(entry(team, { resourceType: "sandbox", action: "destroy", status: "warning" }));
      await audit.insert(entry(team, { resourceType: "member", action: "add", scope: "admin" }));
      await audit.insert(entry(team, { resourceType: "api_key", action: "create" }));
      await audit.insert(entry(randomUUID()));
      const list = async (q: Partial<AuditQuery>) =>
        (await audit.list({ teamId: team, scopes: ["team"], limit: 50, ...q })).items.map(
          (i) => `${i.resourceType}/${i.action}`,
        );
      assert.deepEqual((await list({})).sort(), ["api_key/create", "sandbox/create", "sandbox/destroy"]);
      assert.equal((await list({ scopes: ["team", "admin"] })).length, 4);
      assert.deepEqual(await list({ scopes: ["admin"] }), ["member/add"]);
      assert.deepEqual((await list({ resourceTypes: ["sandbox"] })).sort(), ["sandbox/create", "sandbox/destroy"]);
      assert.deepEqual((await list({ actions: ["create"] })).sort(), ["api_key/create", "sandbox/create"]);
      assert.deepEqual(await list({ resourceTypes: ["sandbox"], actions: ["destroy"] }), ["sandbox/destroy"]);
    });

    test("anonymizing a user clears them as actor and as member subject", async () => {
      const audit = createAuditRepo(db);
      const team = randomUUID();
      const actor = await audit.insert(entry(team, { actorId: "usr-gone", actorName: "Gone" }));
      const member = await audit.insert(
        entry(team, {
          actorId: "usr-admin",
          resourceType: "member",
          resourceId: "usr-gone",
          action: "add",
          metadata: { email: "gone@x.io", role: "member" },
        }),
      );
      const unrelated = await audit.insert(entry(team, { actorId: "usr-other", resourceId: "usr-gone" }));
      assert.deepEqual(await audit.anonymizeUser("usr-gone"), { asActor: 1, asMember: 1 });
      const items = new Map(
        (await audit.list({ teamId: team, scopes: ["team"], limit: 10 })).items.map((i) => [i.id, i]),
      );
      assert.equal(items.get(actor.id)?.actorId, null);
      assert.equal(items.get(actor.id)?.actorName, "deleted-user");
      assert.equal(items.get(member.id)?.resourceId, null);
      assert.deepEqual(items.get(member.id)?.metadata, { role: "member" });
      assert.equal(items.get(unrelated.id)?.resourceId, "usr-gone", "only member entries lose the subject");
      assert.deepEqual(await audit.anonymizeUser("usr-gone"), { asActor: 0, asMember: 0 });
    });
  });
}
