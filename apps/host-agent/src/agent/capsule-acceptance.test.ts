/**
 * Issue 3's acceptance items on a real agent (namespace runtime): isolation, pause/resume
 * state, and 100 pause/resume cycles without growth.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { Agent as HttpAgent, request } from "node:http";
import { connect } from "node:net";
import { before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Code } from "@connectrpc/connect";
import { freePort } from "@wrenn/kit";
import { ExecFileRunner, runChecked } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { netnsSkipReason } from "../net/netns-test-helpers.js";
import { rejectsWith } from "../rpc/rpc-test-helpers.js";
import { until } from "../sandboxes/sandbox-test-helpers.js";
import { startTestAgent, type TestAgent } from "./agent-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/usr/sbin/debootstrap") && !existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image and no debootstrap to build one"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

const text = (b: Uint8Array) => Buffer.from(b).toString();

/** `sh -c script` in a capsule; resolves with stdout and the exit code. */
async function sh(t: TestAgent, sandboxId: string, script: string) {
  const r = await t.client.exec({ sandboxId, cmd: "/bin/sh", args: ["-c", script], timeoutSec: 30 });
  return { out: text(r.stdout), code: r.exitCode };
}

function guestIp(t: TestAgent, id: string): string {
  return new URL(t.agent.manager.get(id).envdUrl ?? "").hostname;
}

/** GET with a given agent; resolves with status and body. */
function get(url: string, agent: HttpAgent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, signal: AbortSignal.timeout(10_000) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("capsule acceptance (privileged, namespace runtime)", { skip, timeout: 600_000 }, () => {
  before(async () => {
    await buildImage({ wrennDir: "/var/lib/wrenn", template: MINIMAL_TEMPLATE, sources, runner });
  });

  it("isolation: own processes, files and hostname; no way to another capsule or the agent; OOM stays inside", async () => {
    // The agent listens on an address this test puts on a link of its own: the host
    // reaches it, capsules must not (their gateway side drops anything new to the host).
    const prefixLink = `t${Math.random().toString(16).slice(2, 7)}d0`;
    const listenIp = `10.213.255.${2 + Math.floor(Math.random() * 250)}`;
    await runChecked(runner, ["ip", "-batch", "-"], {
      // A veth pair (this kernel has no dummy links) whose one end carries the address.
      stdin: `link add ${prefixLink} type veth peer name ${prefixLink}p\naddr add ${listenIp}/32 dev ${prefixLink}\nlink set ${prefixLink} up\nlink set ${prefixLink}p up\n`,
    });
    try {
      const port = await freePort();
      await using ta = await startTestAgent({
        WRENN_HOST_LISTEN_ADDR: `${listenIp}:${port}`,
        WRENN_ALLOW_PLAINTEXT: "1",
      });
      const c = ta.client;
      assert.equal(ta.agent.url, `http://${listenIp}:${port}`);
      for (const id of ["sb-a", "sb-b"])
        await c.createSandbox({ sandboxId: id, templateName: "minimal", memoryMb: 256 });
      await c.startBackground({ sandboxId: "sb-b", cmd: "/bin/sleep", args: ["4242"] });
      await sh(ta, "sb-b", "echo secret > /home/user/b-only");

      const cmdlines = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done";
      assert.match((await sh(ta, "sb-b", cmdlines)).out, /sleep 4242/);
      assert.doesNotMatch((await sh(ta, "sb-a", cmdlines)).out, /sleep 4242/, "A does not see B's processes");
      assert.equal((await sh(ta, "sb-a", "ls /home/user")).out.includes("b-only"), false, "nor its files");
      assert.equal((await sh(ta, "sb-a", "hostname")).out, "sb-a\n");
      assert.equal((await sh(ta, "sb-b", "hostname")).out, "sb-b\n");

      const curl = (url: string) => `curl -sS -o /dev/null -w '%{http_code}' -m 2 ${url}`;
      const bEnvd = `http://${guestIp(ta, "sb-b")}:49983/health`;
      assert.equal((await sh(ta, "sb-a", curl("http://127.0.0.1:49983/health"))).out, "200", "its own envd answers");
      assert.notEqual((await sh(ta, "sb-a", curl(bEnvd))).code, 0, "A cannot reach B");
      assert.notEqual((await sh(ta, "sb-a", curl(`${ta.agent.url}/`))).code, 0, "A cannot reach the agent");
      assert.equal((await c.getHostInfo({})).runtime, "namespace", "the host reaches the agent there");
      assert.equal((await fetch(bEnvd)).status, 200, "and the host reaches B");

      await c.createSandbox({ sandboxId: "sb-oom", templateName: "minimal", memoryMb: 128 });
      const oom = await sh(
        ta,
        "sb-oom",
        "python3 -c 'b=[]\nfor i in range(400): b.append(bytearray(1<<20))\nprint(\"survived\")'",
      );
      assert.doesNotMatch(oom.out, /survived/);
      assert.notEqual(oom.code, 0, "the allocation was killed");
      for (const id of ["sb-oom", "sb-a", "sb-b"])
        assert.equal((await sh(ta, id, "echo alive")).out, "alive\n", `${id} still works`);
    } finally {
      await runner.run(["ip", "link", "del", prefixLink]);
    }
  });

  it("pause/resume: counting goes on, files stay, connections from before get a clean answer or keep working, new ones work", async () => {
    await using ta = await startTestAgent();
    const c = ta.client;
    await c.createSandbox({ sandboxId: "sb-p", templateName: "minimal", memoryMb: 256 });
    await sh(ta, "sb-p", "mkdir -p /srv/www && echo hello > /srv/www/file.txt");
    // Counter in memory only (/tmp is a tmpfs), mirrored atomically so a read never sees it empty.
    await c.startBackground({
      sandboxId: "sb-p",
      cmd: "/bin/sh",
      args: ["-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.05; done"],
    });
    await c.startBackground({
      sandboxId: "sb-p",
      cmd: "python3",
      args: ["-m", "http.server", "8080", "--directory", "/srv/www"],
    });
    const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const file = `${ta.agent.url}/proxy/sb-p/8080/file.txt`;
    assert.ok(
      await until(async () => (await get(file, keepAlive).catch(() => ({ status: 0 }))).status === 200, 10_000),
    );
    // An idle keep-alive connection straight to envd, opened before the pause.
    const raw = connect(49983, guestIp(ta, "sb-p"));
    let rawClosed = false;
    raw.on("close", () => {
      rawClosed = true;
    });
    raw.on("error", () => undefined);
    raw.write("GET /health HTTP/1.1\r\nHost: envd\r\n\r\n");
    await new Promise((r) => raw.once("data", r));
    const read = async () => Number((await sh(ta, "sb-p", "cat /tmp/c")).out);
    const before = await read();

    await c.pauseSandbox({ sandboxId: "sb-p" });
    // The freezer keeps the guest's sockets as they are (nothing is restored on resume), so
    // envd is not asked to drop its connections: a request sent straight to envd while the
    // capsule is frozen waits in the socket and is answered once it is thawed.
    let rawAnswer = "";
    raw.on("data", (d: Buffer) => {
      rawAnswer += d.toString();
    });
    raw.write("GET /health HTTP/1.1\r\nHost: envd\r\n\r\n");
    const whilePaused = await get(file, keepAlive);
    assert.equal(whilePaused.status, 503, "a request on the old proxy connection gets a clean answer at once");
    assert.equal(JSON.parse(whilePaused.body).reason, "sandbox_paused");
    await rejectsWith(c.exec({ sandboxId: "sb-p", cmd: "/bin/true" }), Code.FailedPrecondition, "exec while paused");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(rawAnswer, "", "nothing answers while frozen");

    await c.resumeSandbox({ sandboxId: "sb-p" });
    assert.ok(await until(() => rawAnswer.startsWith("HTTP/1.1 200"), 3000), "answered once thawed (no hang)");
    assert.equal(rawClosed, false, "on the connection from before the pause");
    const afterResume = await read();
    assert.ok(
      afterResume >= before && afterResume - before < 15,
      `the counter did not run while paused: ${before} → ${afterResume}`,
    );
    assert.ok(await until(async () => (await read()) > afterResume, 3000), "and counts on after resume");
    assert.deepEqual(await get(file, keepAlive), { status: 200, body: "hello\n" }, "the proxy works again");
    assert.deepEqual(await get(file, new HttpAgent()), { status: 200, body: "hello\n" }, "so do new connections");
    keepAlive.destroy();
    raw.destroy();
  });

  it("100 pause/resume cycles: no growth in handles, timers, file descriptors or heap", async (t) => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    await using ta = await startTestAgent();
    const c = ta.client;
    await c.createSandbox({ sandboxId: "sb-cycle", templateName: "minimal", memoryMb: 256 });
    const cycle = async () => {
      await c.pauseSandbox({ sandboxId: "sb-cycle" });
      await c.resumeSandbox({ sandboxId: "sb-cycle" });
    };
    for (let i = 0; i < 5; i++) await cycle(); // warm pools and caches
    const count = () => {
      const kinds: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) kinds[r] = (kinds[r] ?? 0) + 1;
      return { kinds, fds: readdirSync("/proc/self/fd").length };
    };
    gc();
    const b = { ...count(), heap: process.memoryUsage().heapUsed };
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) await cycle();
    t.diagnostic(`100 pause/resume cycles through the RPC: ${(performance.now() - t0).toFixed(0)} ms`);
    await new Promise((r) => setTimeout(r, 600)); // one sampler tick, sockets settle
    gc();
    const a = { ...count(), heap: process.memoryUsage().heapUsed };
    t.diagnostic(`before ${JSON.stringify(b)}; after ${JSON.stringify(a)}`);
    assert.ok((a.kinds["Timeout"] ?? 0) <= (b.kinds["Timeout"] ?? 0) + 1, "timers did not grow");
    const handles = (k: Record<string, number>) => Object.values(k).reduce((x, y) => x + y, 0);
    assert.ok(handles(a.kinds) <= handles(b.kinds) + 2, "handles did not grow");
    assert.ok(a.fds <= b.fds + 2, `fds ${b.fds} → ${a.fds}`);
    assert.ok(a.heap - b.heap < 8 * 2 ** 20, `heap grew by ${((a.heap - b.heap) / 2 ** 20).toFixed(1)} MiB`);
    assert.equal((await sh(ta, "sb-cycle", "echo ok")).out, "ok\n");
  });
});
