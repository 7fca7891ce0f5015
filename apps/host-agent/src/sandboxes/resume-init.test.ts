import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvdClient, EnvdHttpError } from "../envd-client/envd-client.js";
import { envdSkipReason, spawnEnvd } from "../envd-client/envd-test-helpers.js";
import { initAfterResume, needsInitAfterResume } from "./resume-init.js";
import { input } from "./sandbox-test-helpers.js";

/** An /init body that marks which attempt sent it (each attempt builds its own). */
function counted(marker: string) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    body: () => {
      calls++;
      return { envVars: { RESUME_MARK: `${marker}-${calls}` }, timestamp: new Date().toISOString() };
    },
  };
}

async function envs(envd: EnvdClient, baseUrl: string): Promise<Record<string, string>> {
  await envd.health();
  return (await (await fetch(`${baseUrl}/envs`)).json()) as Record<string, string>;
}

describe("initAfterResume (real envd processes)", { skip: envdSkipReason() ?? false }, () => {
  it("a listening envd gets /init at once: one attempt, no /health polling first", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    try {
      await client.waitHealthy(AbortSignal.timeout(20_000), 10);
      const b = counted("warm");
      await initAfterResume(client, b.body, { healthTimeoutMs: 20_000 });
      assert.equal(b.calls, 1);
      assert.equal((await envs(client, envd.baseUrl))["RESUME_MARK"], "warm-1");
    } finally {
      client.close();
    }
  });

  it("an envd not listening yet: the refused /init falls back to /health, then /init again", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    try {
      const b = counted("late");
      // Sent right after the spawn: node has not even loaded envd yet, the port refuses.
      await initAfterResume(client, b.body, { healthTimeoutMs: 20_000 });
      assert.equal(b.calls, 2);
      assert.equal((await envs(client, envd.baseUrl))["RESUME_MARK"], "late-2");
    } finally {
      client.close();
    }
  });

  it("a stopped envd (the kernel still accepts): the first /init waits its deadline, the retry lands after SIGCONT", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    try {
      await client.waitHealthy(AbortSignal.timeout(20_000), 10);
      process.kill(envd.pid, "SIGSTOP");
      const b = counted("stopped");
      const done = initAfterResume(client, b.body, { healthTimeoutMs: 20_000, firstTryMs: 200 });
      setTimeout(() => process.kill(envd.pid, "SIGCONT"), 600);
      await done;
      assert.equal(b.calls, 2);
      // Both reached envd; the later clock wins (envd ignores an older /init).
      assert.equal((await envs(client, envd.baseUrl))["RESUME_MARK"], "stopped-2");
    } finally {
      process.kill(envd.pid, "SIGCONT");
      client.close();
    }
  });

  it("envd's refusal is final: a 401 rejects at once, without polling /health", async () => {
    await using envd = await spawnEnvd();
    const owner = new EnvdClient({ baseUrl: envd.baseUrl });
    const stranger = new EnvdClient({ baseUrl: envd.baseUrl, accessToken: "not-the-token" });
    try {
      await owner.waitHealthy(AbortSignal.timeout(20_000), 10);
      await owner.init({ accessToken: "the-token" });
      const b = counted("refused");
      await assert.rejects(
        initAfterResume(stranger, b.body, { healthTimeoutMs: 20_000 }),
        (e: unknown) => e instanceof EnvdHttpError && e.status === 401,
      );
      assert.equal(b.calls, 1);
    } finally {
      owner.close();
      stranger.close();
    }
  });

  it("a caller's abort ends the fallback", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    try {
      await client.waitHealthy(AbortSignal.timeout(20_000), 10);
      process.kill(envd.pid, "SIGSTOP");
      const ac = new AbortController();
      const done = initAfterResume(client, counted("aborted").body, {
        healthTimeoutMs: 20_000,
        firstTryMs: 100,
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(new Error("caller gave up")), 300);
      await assert.rejects(done, /caller gave up/);
    } finally {
      process.kill(envd.pid, "SIGCONT");
      client.close();
    }
  });
});

describe("needsInitAfterResume", () => {
  const held = input("sb-n", { defaultUser: "user", accessToken: "t1", envVars: { A: "1", B: "2" } });

  it("after a restore: always", () => {
    assert.equal(needsInitAfterResume(false, held, held), true);
  });

  it("after a pause in place: only when a setting envd holds changed", () => {
    const same = (extra: Parameters<typeof input>[1]) => needsInitAfterResume(true, held, { ...held, ...extra });
    assert.equal(same({}), false, "nothing changed");
    assert.equal(same({ envVars: { B: "2", A: "1" } }), false, "the same env in another order");
    assert.equal(same({ envVars: { A: "1", B: "3" } }), true, "a new value");
    assert.equal(same({ envVars: { A: "1", B: "2", C: "" } }), true, "a new variable, even empty");
    assert.equal(same({ defaultUser: "root" }), true, "another user");
    assert.equal(same({ accessToken: "t2" }), true, "another token");
    const rootByDefault = input("sb-n");
    assert.equal(needsInitAfterResume(true, rootByDefault, { ...rootByDefault, defaultUser: "root" }), false);
  });
});
