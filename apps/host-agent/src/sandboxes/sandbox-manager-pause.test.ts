/**
 * Which envd steps a pause and a resume take: none around a pause in place (SIGSTOP here, the
 * cgroup freezer in the namespace runtime) unless ResumeSandbox changes a setting, and envd's
 * snapshot preparation plus `/init` around a pause the runtime restores from.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { EnvdClient } from "../envd-client/envd-client.js";
import { LoopbackRuntime } from "./loopback-runtime.js";
import { envdSkip, input, testManager, until } from "./sandbox-test-helpers.js";

/** An envd client factory whose clients log the envd calls a pause or resume makes. */
function loggingEnvd() {
  const calls: string[] = [];
  const factory = (baseUrl: string, accessToken?: string): EnvdClient =>
    new (class extends EnvdClient {
      override init(body: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
        calls.push("init");
        return super.init(body, signal);
      }
      override prepareSnapshot(signal?: AbortSignal): Promise<void> {
        calls.push("prepare");
        return super.prepareSnapshot(signal);
      }
    })({ baseUrl, ...(accessToken !== undefined ? { accessToken } : {}) });
  return { calls, factory };
}

/** An idle HTTP/1.1 keep-alive connection to envd, opened with one answered request. */
async function keepAliveConnection(envdUrl: string) {
  const u = new URL(envdUrl);
  const socket: Socket = connect(Number(u.port), u.hostname);
  const state = { closed: false };
  socket.on("close", () => {
    state.closed = true;
  });
  socket.on("error", () => undefined);
  const get = async (): Promise<string> => {
    const answer = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
    socket.write("GET /health HTTP/1.1\r\nHost: envd\r\n\r\n");
    return answer;
  };
  assert.match(await get(), /^HTTP\/1\.1 200/);
  return { state, get, [Symbol.dispose]: () => socket.destroy() };
}

async function envs(url: string, token?: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/envs`, token ? { headers: { "x-access-token": token } } : {});
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, string>;
}

describe("SandboxManager pause/resume envd steps (real envd processes)", { skip: envdSkip }, () => {
  it("a pause in place leaves envd alone: connections from before keep working, no /init on resume", async () => {
    const log = loggingEnvd();
    await using tm = await testManager({ envdClient: log.factory });
    const { mgr } = tm;
    const url = (await mgr.create(input("sb-inplace", { templateId: "tpl-a", envVars: { FOO: "1" } }))).envdUrl ?? "";
    assert.deepEqual(log.calls, ["init"], "the first /init of create");
    using conn = await keepAliveConnection(url);

    assert.equal((await mgr.pause("sb-inplace")).status, "paused");
    // The control plane resends the stored settings on every resume: the same ones change nothing.
    assert.equal((await mgr.resume("sb-inplace", undefined, { envVars: { FOO: "1" } })).status, "running");
    assert.deepEqual(log.calls, ["init"], "neither /snapshot/prepare nor /init");
    assert.equal(conn.state.closed, false, "envd kept the idle connection");
    assert.match(await conn.get(), /^HTTP\/1\.1 200/, "and answers on it after resume");
    const held = await envs(url);
    assert.deepEqual([held["WRENN_TEMPLATE_ID"], held["WRENN_SANDBOX_ID"], held["FOO"]], ["tpl-a", "sb-inplace", "1"]);

    // A changed setting is handed over: one /init with the merged env.
    await mgr.pause("sb-inplace");
    await mgr.resume("sb-inplace", undefined, { envVars: { BAR: "2" } });
    assert.deepEqual(log.calls, ["init", "init"]);
    const merged = await envs(url);
    assert.deepEqual([merged["FOO"], merged["BAR"], merged["WRENN_TEMPLATE_ID"]], ["1", "2", "tpl-a"]);

    // A new token too; from then on the manager's client presents it.
    await mgr.pause("sb-inplace");
    await mgr.resume("sb-inplace", undefined, { accessToken: "tok-2" });
    assert.deepEqual(log.calls, ["init", "init", "init"]);
    assert.equal((await fetch(`${url}/envs`)).status, 401, "envd now wants the new token");
    assert.equal((await envs(url, "tok-2"))["BAR"], "2");
    await mgr.envd("sb-inplace").metrics();
  });

  it("a pause the runtime restores from prepares envd (idle connections closed) and hands /init back", async () => {
    const log = loggingEnvd();
    await using tm = await testManager({
      envdClient: log.factory,
      runtime: new LoopbackRuntime({ pausesInPlace: false }),
    });
    const { mgr } = tm;
    const url = (await mgr.create(input("sb-restore", { templateId: "tpl-b" }))).envdUrl ?? "";
    using conn = await keepAliveConnection(url);

    await mgr.pause("sb-restore");
    assert.deepEqual(log.calls, ["init", "prepare"]);
    assert.ok(await until(() => conn.state.closed, 3000), "envd closed its idle connection before the pause");
    await mgr.resume("sb-restore");
    assert.deepEqual(log.calls, ["init", "prepare", "init"], "the same settings still get /init");
    assert.equal((await envs(url))["WRENN_TEMPLATE_ID"], "tpl-b");
    using fresh = await keepAliveConnection(url);
    assert.match(await fresh.get(), /^HTTP\/1\.1 200/, "new connections are kept alive again");
  });
});
