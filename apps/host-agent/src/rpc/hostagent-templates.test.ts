import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { startTestAgent, type TestAgent } from "../agent/agent-test-helpers.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { netnsSkipReason } from "../net/netns-test-helpers.js";
import { until } from "../sandboxes/sandbox-test-helpers.js";
import { rejectsWith } from "./rpc-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/usr/sbin/debootstrap") && !existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image and no debootstrap to build one"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

const TEAM = "5f0c3c8e-1f0a-4c53-9a53-0d5e4b8f2a10";
const text = (b: Uint8Array) => Buffer.from(b).toString();

/** Runs `sh -c script` in a capsule through the agent's Exec RPC. */
async function sh(t: TestAgent, sandboxId: string, script: string, user?: string): Promise<string> {
  const r = await t.client.exec({ sandboxId, cmd: "/bin/sh", args: ["-c", script], ...(user ? { user } : {}) });
  assert.equal(r.exitCode, 0, `${script}: ${text(r.stderr)}`);
  return text(r.stdout);
}

describe("hostagent.v1 templates, resume settings and metrics on the namespace runtime", {
  skip,
  timeout: 300_000,
}, () => {
  before(async () => {
    await buildImage({ wrennDir: "/var/lib/wrenn", template: MINIMAL_TEMPLATE, sources, runner });
  });

  it("CreateSnapshot keeps files (processes restart: envd only), capsules start from it, DeleteSnapshot waits for them", async (t) => {
    await using ta = await startTestAgent();
    const c = ta.client;
    const tpl = "0d3b8a52-7d4b-4ec5-8a5e-2c6a8c1f9b01";
    await c.createSandbox({ sandboxId: "sb-src", templateName: "minimal", memoryMb: 256 });
    await sh(ta, "sb-src", "echo kept > /home/user/keep.txt && mkdir -p /opt/app && echo v1 > /opt/app/version");
    const bg = await c.startBackground({ sandboxId: "sb-src", cmd: "/bin/sleep", args: ["1000"], tag: "sleeper" });

    const t0 = performance.now();
    const snap = await c.createSnapshot({ sandboxId: "sb-src", teamId: TEAM, templateId: tpl });
    t.diagnostic(
      `CreateSnapshot (namespace, freeze + copy of the merged root): ${(performance.now() - t0).toFixed(0)} ms, ${(Number(snap.sizeBytes) / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.equal(snap.mode, "filesystem");
    assert.equal(snap.name, tpl);
    assert.ok(snap.sizeBytes > 50n * 2n ** 20n, `size ${snap.sizeBytes}`);
    const listed = (await c.listSandboxes({})).sandboxes.find((s) => s.sandboxId === "sb-src");
    assert.equal(listed?.status, "paused", "the source capsule stays paused");
    const meta = JSON.parse(readFileSync(join(ta.config.wrennDir, "templates", TEAM, tpl, "template.json"), "utf8"));
    assert.deepEqual(
      [meta.kind, meta.runtime, meta.mode, meta.sourceSandboxId],
      ["snapshot", "namespace", "filesystem", "sb-src"],
    );
    assert.match(meta.note, /processes and memory are not kept \(filesystem only\): CRIU/);
    await rejectsWith(
      c.createSnapshot({ sandboxId: "sb-src", teamId: TEAM, templateId: tpl }),
      Code.AlreadyExists,
      "same template id",
    );
    await rejectsWith(
      c.createSnapshot({ sandboxId: "sb-src", teamId: TEAM, templateId: "../x" }),
      Code.InvalidArgument,
      "bad id",
    );

    await c.createSandbox({ sandboxId: "sb-clone", teamId: TEAM, templateId: tpl });
    assert.equal(await sh(ta, "sb-clone", "cat /home/user/keep.txt /opt/app/version"), "kept\nv1\n");
    assert.equal((await sh(ta, "sb-clone", "hostname")).trim(), "sb-clone");
    assert.deepEqual((await c.listProcesses({ sandboxId: "sb-clone" })).processes, [], "no process came along");
    const comms = await sh(ta, "sb-clone", "cat /proc/[0-9]*/comm | sort | tr '\\n' ' '");
    assert.doesNotMatch(comms, /sleep/, comms);
    assert.equal((await c.listSandboxes({})).sandboxes.find((s) => s.sandboxId === "sb-clone")?.templateId, tpl);
    assert.equal((await sh(ta, "sb-clone", "printenv WRENN_TEMPLATE_ID")).trim(), tpl);

    await rejectsWith(c.deleteSnapshot({ teamId: TEAM, templateId: tpl }), Code.FailedPrecondition, "in use");
    await c.destroySandbox({ sandboxId: "sb-clone" });
    await c.deleteSnapshot({ teamId: TEAM, templateId: tpl });
    await c.deleteSnapshot({ teamId: TEAM, templateId: tpl }); // idempotent
    assert.equal(existsSync(join(ta.config.wrennDir, "templates", TEAM, tpl)), false);
    await rejectsWith(c.createSandbox({ sandboxId: "sb-x", teamId: TEAM, templateId: tpl }), Code.NotFound, "deleted");

    // The source was frozen, not restarted: its process is still there after resume.
    await c.resumeSandbox({ sandboxId: "sb-src" });
    assert.ok((await c.listProcesses({ sandboxId: "sb-src" })).processes.some((p) => p.pid === bg.pid));

    // FlattenRootfs: an image-only base template; the capsule is destroyed.
    const base = "7c1e3f0a-9b7d-4e5f-8a6b-1c2d3e4f5a6b";
    const flat = await c.flattenRootfs({ sandboxId: "sb-src", teamId: TEAM, templateId: base });
    assert.ok(flat.sizeBytes > 50n * 2n ** 20n);
    assert.deepEqual((await c.listSandboxes({})).sandboxes, [], "flattened capsule destroyed");
    await c.createSandbox({ sandboxId: "sb-base", teamId: TEAM, templateId: base });
    assert.equal(await sh(ta, "sb-base", "cat /opt/app/version"), "v1\n");
    await c.destroySandbox({ sandboxId: "sb-base" });
    await c.deleteSnapshot({ teamId: TEAM, templateId: base });
  });

  it("ResumeSandbox applies timeout, user and env; the template id survives repeated pause/resume; FlushSandboxMetrics stops the sampler", async () => {
    await using ta = await startTestAgent();
    const c = ta.client;
    const tpl = "3a4b5c6d-0000-4000-8000-00000000abcd";
    await c.createSandbox({
      sandboxId: "sb-r",
      templateId: tpl,
      templateName: "minimal",
      memoryMb: 256,
      defaultEnv: { A: "1" },
    });
    for (let i = 0; i < 3; i++) {
      await c.pauseSandbox({ sandboxId: "sb-r" });
      await c.resumeSandbox({ sandboxId: "sb-r" });
      assert.equal((await c.listSandboxes({})).sandboxes[0]?.templateId, tpl, `after pause/resume #${i + 1}`);
      assert.equal(
        (await sh(ta, "sb-r", "printenv WRENN_TEMPLATE_ID; cat /run/wrenn/.WRENN_TEMPLATE_ID")).trim(),
        `${tpl}\n${tpl}`,
      );
    }

    await c.pauseSandbox({ sandboxId: "sb-r" });
    await c.resumeSandbox({ sandboxId: "sb-r", timeoutSec: 1, defaultUser: "user", defaultEnv: { FOO: "bar" } });
    const r = await c.exec({ sandboxId: "sb-r", cmd: "/bin/sh", args: ["-c", "id -un; echo $A$FOO"] });
    assert.equal(text(r.stdout), "user\n1bar\n", "default user and merged env from ResumeSandbox");
    assert.equal((await c.listSandboxes({})).sandboxes[0]?.timeoutSec, 1);
    // The TTL from ResumeSandbox is live: the reaper (every 2 s) auto-pauses the idle capsule.
    assert.ok(
      await until(async () => (await c.listSandboxes({})).autoPausedSandboxIds.includes("sb-r"), 8000),
      "auto-paused after the resumed TTL",
    );
    await c.resumeSandbox({ sandboxId: "sb-r", timeoutSec: 0 });

    assert.ok(
      await until(async () => (await c.getSandboxMetrics({ sandboxId: "sb-r", range: "5m" })).points.length > 0, 5000),
      "the sampler records points",
    );
    const flushed = await c.flushSandboxMetrics({ sandboxId: "sb-r" });
    assert.ok(flushed.points10m.length > 0 && flushed.points2h.length > 0 && flushed.points24h.length > 0);
    await new Promise((res) => setTimeout(res, 1500));
    assert.deepEqual(
      (await c.getSandboxMetrics({ sandboxId: "sb-r", range: "5m" })).points,
      [],
      "sampler stopped, rings drained",
    );
    await c.destroySandbox({ sandboxId: "sb-r" });
  });
});
