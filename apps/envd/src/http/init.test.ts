import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";

async function init(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/init`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

describe("POST /init", { timeout: 20_000 }, () => {
  test("sets env vars, seen by GET /envs", async () => {
    await using t = await useEnvd();
    assert.equal(await init(t.url, { envVars: { FOO: "bar", EMPTY: "" } }), 204);
    const envs = (await (await fetch(`${t.url}/envs`)).json()) as Record<string, string>;
    assert.equal(envs["FOO"], "bar");
    assert.equal(envs["EMPTY"], "");
  });

  test("is idempotent by timestamp: an older /init changes nothing", async () => {
    await using t = await useEnvd();
    assert.equal(await init(t.url, { envVars: { V: "new" }, timestamp: "2026-01-02T00:00:00Z" }), 204);
    assert.equal(await init(t.url, { envVars: { V: "old" }, timestamp: "2026-01-01T00:00:00Z" }), 204);
    assert.equal(await init(t.url, { envVars: { V: "same-second" }, timestamp: 1767312000 }), 204);
    const envs = (await (await fetch(`${t.url}/envs`)).json()) as Record<string, string>;
    assert.equal(envs["V"], "same-second", "numeric seconds equal to the last RFC3339 time apply");
  });

  test("an access token then guards every route but /health", async () => {
    await using t = await useEnvd();
    assert.equal(await init(t.url, { accessToken: "tok-1" }), 204);
    assert.equal((await fetch(`${t.url}/health`)).status, 200);
    assert.equal((await fetch(`${t.url}/envs`)).status, 401);
    assert.equal((await fetch(`${t.url}/envs`, { headers: { "x-access-token": "tok-1" } })).status, 200);
    // Changing the token needs the current one.
    assert.equal(await init(t.url, { accessToken: "tok-2" }), 401);
    assert.equal(await init(t.url, { accessToken: "tok-2" }, { "x-access-token": "tok-1" }), 204);
    assert.equal((await fetch(`${t.url}/envs`, { headers: { "x-access-token": "tok-2" } })).status, 200);
  });

  test("records sandbox and template ids in the run dir and the environment", async () => {
    await using t = await useEnvd();
    assert.equal(await init(t.url, { sandboxId: "cl-abc", templateId: "00000000-0000-0000-0000-000000000001" }), 204);
    assert.equal(await readFile(join(t.dir, "run", ".WRENN_SANDBOX_ID"), "utf8"), "cl-abc");
    assert.equal(
      await readFile(join(t.dir, "run", ".WRENN_TEMPLATE_ID"), "utf8"),
      "00000000-0000-0000-0000-000000000001",
    );
    const envs = (await (await fetch(`${t.url}/envs`)).json()) as Record<string, string>;
    assert.equal(envs["WRENN_TEMPLATE_ID"], "00000000-0000-0000-0000-000000000001");
  });

  test("rejects bad bodies with 400 and changes nothing", async () => {
    await using t = await useEnvd();
    const bad = [
      { defaultUser: "ghost" },
      { envVars: { "1BAD": "x" } },
      { envVars: { OK: 1 } },
      { defaultWorkdir: "relative" },
      [1, 2],
    ];
    for (const body of bad) assert.equal(await init(t.url, body), 400, JSON.stringify(body));
    assert.equal(t.envd.env.state.defaultUser, "root");
    assert.equal(t.envd.env.state.envVars.size, 0);
  });
});
