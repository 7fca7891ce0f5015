import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { freePort } from "@wrenn/kit";
import { Process } from "@wrenn/protocol/envd/process";
import { EnvdClient } from "./envd-client.js";
import { envdSkipReason, openServerSockets, spawnEnvd } from "./envd-test-helpers.js";

const skip = envdSkipReason();

/** Runs `sh -c script` through `client` and returns stdout and the exit code. */
async function run(process: ReturnType<typeof createClient<typeof Process>>, script: string) {
  let out = "";
  let exit: number | undefined;
  for await (const r of process.start({ process: { cmd: "/bin/sh", args: ["-c", script], envs: {} } })) {
    const ev = r.event?.event;
    if (ev?.case === "data" && ev.value.output.case === "stdout") out += Buffer.from(ev.value.output.value).toString();
    if (ev?.case === "end") exit = ev.value.exitCode;
  }
  return { out, exit };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe("EnvdClient against a real envd", { skip }, () => {
  it("waitHealthy polls until envd answers; unary calls go through the timeout pool", async (t) => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    const started = Date.now();
    await client.waitHealthy(AbortSignal.timeout(15_000));
    t.diagnostic(`envd healthy ${Date.now() - started} ms after spawn`);
    assert.match(await client.health(), /\d/);
    const st = await client.filesystem.stat({ path: tmpdir() });
    assert.equal(st.entry?.path, tmpdir());
    assert.equal(typeof (await client.metrics()), "object");
    const c = client.agents.counts();
    assert.ok(c.timeout.idle >= 1, "short calls pooled on the timeout agent");
    assert.equal(c.streaming.idle + c.streaming.busy, 0, "streaming pool untouched");
    client.close();
  });

  it("waitHealthy stops when its signal aborts", async () => {
    const client = new EnvdClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    const started = Date.now();
    await assert.rejects(client.waitHealthy(AbortSignal.timeout(350)));
    assert.ok(Date.now() - started < 1000);
    client.close();
  });

  it("a process stream outlives the short-call timeout on the streaming pool only", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl, timeoutMs: 400 });
    await client.waitHealthy(AbortSignal.timeout(15_000));
    const r = await run(client.process, "sleep 1; echo done");
    assert.deepEqual(r, { out: "done\n", exit: 0 });
    const onTimeoutPool = createClient(Process, client.transports.timeout);
    await assert.rejects(run(onTimeoutPool, "sleep 1; echo done"), (e: unknown) => {
      return ConnectError.from(e).code === Code.DeadlineExceeded;
    });
    client.close();
  });

  it("twelve concurrent process streams run side by side (busy sockets are not capped)", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    await client.waitHealthy(AbortSignal.timeout(15_000));
    // A barrier, not a stopwatch: each process waits (up to 10 s) until all 12 have started.
    // Streams queued behind a socket cap could never all be running at once.
    const dir = await mkdtemp(join(tmpdir(), "wrenn-streams-"));
    try {
      const script = (i: number) =>
        `touch ${dir}/${i}; n=0; while [ $(ls ${dir} | wc -l) -lt 12 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; ls ${dir} | wc -l`;
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => run(client.process, script(i))));
      assert.deepEqual(
        results.map((r) => r.out.trim()),
        Array.from({ length: 12 }, () => "12"),
        "every stream saw all 12 running: none was queued",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.ok(client.agents.counts().streaming.idle <= 10);
    client.close();
  });

  it("closeIdleConnections closes every pooled socket, seen from envd's side", async (t) => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl });
    await client.waitHealthy(AbortSignal.timeout(15_000));
    await Promise.all([client.health(), client.health(), client.health()]);
    await run(client.process, "echo hi");
    const before = await openServerSockets(envd.port);
    assert.ok(before >= 2, `expected pooled sockets on both pools, envd sees ${before}`);
    const closed = client.closeIdleConnections();
    assert.equal(closed, before);
    const started = Date.now();
    assert.ok(await until(async () => (await openServerSockets(envd.port)) === 0, 2000), "envd still holds sockets");
    t.diagnostic(`${closed} idle sockets closed; envd side gone after ${Date.now() - started} ms`);
    client.close();
  });

  it("after /snapshot/prepare, a freeze and /init, the next calls do not hang", async (t) => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl, timeoutMs: 3000 });
    await client.waitHealthy(AbortSignal.timeout(15_000));
    await client.health();
    await run(client.process, "true");
    await client.prepareSnapshot();
    // Stand-in for the snapshot: the guest is frozen, then thawed.
    process.kill(envd.pid, "SIGSTOP");
    await new Promise((r) => setTimeout(r, 200));
    process.kill(envd.pid, "SIGCONT");
    const started = Date.now();
    await client.init({ timestamp: Date.now() / 1000 });
    await client.health();
    assert.equal((await client.filesystem.stat({ path: "/" })).entry?.path, "/");
    assert.deepEqual(await run(client.process, "echo back"), { out: "back\n", exit: 0 });
    const ms = Date.now() - started;
    t.diagnostic(`init + health + stat + exec after restore: ${ms} ms`);
    assert.ok(ms < 2000);
    client.close();
  });

  it("a pooled socket that envd dropped behind the client's back is replaced, not hung on", async () => {
    await using envd = await spawnEnvd();
    const client = new EnvdClient({ baseUrl: envd.baseUrl, timeoutMs: 3000 });
    await client.waitHealthy(AbortSignal.timeout(15_000));
    await client.health();
    // envd closes its idle sockets itself at prepare (FIN) and the pooled one dies.
    await fetch(`${envd.baseUrl}/snapshot/prepare`, { method: "POST" }).then((r) => r.arrayBuffer());
    await client.init({});
    for (let i = 0; i < 5; i++) await client.health();
    client.close();
  });
});
