import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PLATFORM_TEAM_ID } from "../ids/public-id.js";
import { type MetricsApp, type MetricsTestSession, startMetricsApp } from "../metrics/testing/metrics-app.js";

interface Entry {
  id: string;
  actor_type: string;
  actor_id?: string;
  actor_name?: string;
  resource_type: string;
  resource_id?: string;
  action: string;
  scope: string;
  status: string;
  metadata?: Record<string, unknown>;
  created_at: string;
}
interface Page {
  items: Entry[];
  next_before?: string;
  next_before_id?: string;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

describe("audit log routes", () => {
  let s: MetricsApp;
  let owner: MetricsTestSession;
  let teamAdmin: MetricsTestSession;
  let member: MetricsTestSession;

  /** Inserts an entry at an exact time (microseconds) of 2026-01-02 03:04:05. */
  async function entry(teamId: string, micros: number, fields: { type?: string; action?: string; scope?: string }) {
    await s.db.query(
      `INSERT INTO audit_logs (team_id, actor_type, actor_id, actor_name, resource_type, resource_id, action, scope,
         status, metadata, created_at)
       VALUES ($1, 'user', 'usr-x', 'Alice', $2, 'cl-y', $3, $4, 'success', $5::jsonb,
         '2026-01-02T03:04:05Z'::timestamptz + make_interval(secs => $6::float8 / 1000000))`,
      [
        teamId,
        fields.type ?? "sandbox",
        fields.action ?? "create",
        fields.scope ?? "team",
        JSON.stringify({ n: micros }),
        micros,
      ],
    );
  }

  before(async () => {
    s = await startMetricsApp();
    owner = await s.session();
    teamAdmin = await s.session({ team: owner.team, role: "admin" });
    member = await s.session({ team: owner.team, role: "member" });
    // Seven entries inside one second, a microsecond apart: a cursor cut to
    // seconds or milliseconds would skip some of them.
    for (let i = 1; i <= 5; i++) await entry(owner.team.id, i, { type: "sandbox", action: i % 2 ? "create" : "pause" });
    await entry(owner.team.id, 6, { type: "member", action: "add", scope: "admin" });
    await entry(owner.team.id, 7, { type: "team", action: "rename" });
    await entry(PLATFORM_TEAM_ID, 8, { type: "host", action: "create", scope: "admin" });
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  const list = async (who: MetricsTestSession, query = "") =>
    body<Page>(await s.get(`/v1/audit-logs${query}`, { token: who.token }), 200);
  const numbers = (page: Page) => page.items.map((e) => e.metadata?.["n"]);

  test("members see team entries; owners and admins also admin ones; newest first; entry shape", async () => {
    assert.deepEqual(numbers(await list(member)), [7, 5, 4, 3, 2, 1]);
    assert.deepEqual(numbers(await list(owner)), [7, 6, 5, 4, 3, 2, 1]);
    assert.deepEqual(numbers(await list(teamAdmin)), [7, 6, 5, 4, 3, 2, 1]);
    const [first] = (await list(owner)).items;
    assert.ok(first);
    assert.match(first.id, /^log-[0-9a-z]{25}$/);
    assert.deepEqual(
      { ...first, id: "" },
      {
        id: "",
        actor_type: "user",
        actor_id: "usr-x",
        actor_name: "Alice",
        resource_type: "team",
        resource_id: "cl-y",
        action: "rename",
        scope: "team",
        status: "success",
        metadata: { n: 7 },
        created_at: "2026-01-02T03:04:05.000Z",
      },
    );
  });

  test("paging with the microsecond cursor visits every entry exactly once", async () => {
    const seen: unknown[] = [];
    let query = "?limit=2";
    for (let pages = 0; pages < 10; pages++) {
      const page = await list(owner, query);
      seen.push(...numbers(page));
      if (page.next_before === undefined) break;
      assert.match(page.next_before, /\.\d{6}Z$/, "the cursor keeps microseconds");
      query = `?limit=2&before=${encodeURIComponent(page.next_before)}&before_id=${page.next_before_id}`;
    }
    assert.deepEqual(seen, [7, 6, 5, 4, 3, 2, 1]);
  });

  test("filters: repeated or comma-separated resource types and actions", async () => {
    assert.deepEqual(numbers(await list(owner, "?resource_type=member,team")), [7, 6]);
    assert.deepEqual(numbers(await list(owner, "?resource_type=member&resource_type=team")), [7, 6]);
    assert.deepEqual(numbers(await list(owner, "?resource_type=sandbox&action=pause")), [4, 2]);
    assert.deepEqual(numbers(await list(member, "?resource_type=member")), [], "admin scope stays hidden");
  });

  test("bad input: limit outside 1..200, half a cursor, API keys", async () => {
    const status = async (query: string) => (await s.get(`/v1/audit-logs${query}`, { token: owner.token })).status;
    assert.equal(await status("?limit=0"), 400);
    assert.equal(await status("?limit=201"), 400);
    assert.equal(await status("?before=2026-01-02T03:04:05Z"), 400);
    assert.equal(await status("?before=yesterday&before_id=log-x"), 400);
    assert.equal((await s.get("/v1/audit-logs", { apiKey: owner.apiKey })).status, 401);
  });

  test("admin audit log: the platform team's entries, platform admins only", async () => {
    assert.equal((await s.get("/v1/admin/audit-logs", { token: owner.token })).status, 403);
    const admin = await s.session({ isAdmin: true });
    const page = await body<Page>(await s.get("/v1/admin/audit-logs", { token: admin.token }), 200);
    assert.deepEqual(numbers(page), [8]);
    assert.deepEqual(numbers(await list(admin)), [], "a platform admin's own team log is their team's");
  });
});
