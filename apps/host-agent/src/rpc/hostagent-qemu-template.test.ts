import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { before, describe, it } from "node:test";
import { startTestAgent } from "../agent/agent-test-helpers.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { netnsSkipReason } from "../net/netns-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();

async function skipReason(): Promise<string | undefined> {
  const net = await netnsSkipReason(runner);
  if (net) return net;
  const qemu = await runner.run(["qemu-system-x86_64", "--version"]).catch(() => undefined);
  if (qemu?.exitCode !== 0) return "qemu-system-x86_64 is missing (apt-get install qemu-system-x86 qemu-utils)";
  if (!existsSync("/usr/sbin/debootstrap")) return "debootstrap is missing (the minimal image is built with it)";
  if (!existsSync(sources.envdBundle)) return "envd bundle missing (npm run build -w @wrenn/envd)";
  return undefined;
}
const skip = await skipReason();
const TEAM = "5f0c3c8e-1f0a-4c53-9a53-0d5e4b8f2a10";

// One test only: guests run 20–30× slower under TCG.
describe("hostagent.v1 on the qemu runtime (TCG)", { skip, timeout: 600_000 }, () => {
  before(async () => {
    await buildImage({ wrennDir: "/var/lib/wrenn", template: MINIMAL_TEMPLATE, sources, runner, ext4: true });
  });

  it("CreateSnapshot keeps memory: a capsule created from the template goes on counting where the source stopped", async (t) => {
    // 512 MiB like the runtime's own test, so the pre-booted template snapshot is shared.
    await using ta = await startTestAgent({ WRENN_RUNTIME: "qemu" });
    const c = ta.client;
    const sh = async (id: string, script: string) => {
      const r = await c.exec({ sandboxId: id, cmd: "/bin/sh", args: ["-c", script], timeoutSec: 60 });
      assert.equal(r.exitCode, 0, Buffer.from(r.stderr).toString());
      return Buffer.from(r.stdout).toString();
    };
    let t0 = performance.now();
    await c.createSandbox({ sandboxId: "vm-src", templateName: "minimal", memoryMb: 512 });
    t.diagnostic(`create (template snapshot restore) ${(performance.now() - t0).toFixed(0)} ms`);
    await sh("vm-src", "echo kept > /home/user/keep.txt");
    await sh(
      "vm-src",
      "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done) >/dev/null 2>&1 </dev/null &",
    );
    await new Promise((r) => setTimeout(r, 1500));

    t0 = performance.now();
    const tpl = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4";
    const snap = await c.createSnapshot({ sandboxId: "vm-src", teamId: TEAM, templateId: tpl });
    t.diagnostic(
      `CreateSnapshot (migrate to file + qcow2 flatten) ${(performance.now() - t0).toFixed(0)} ms, ${(Number(snap.sizeBytes) / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.equal(snap.mode, "memory");
    assert.equal((await c.listSandboxes({})).sandboxes[0]?.status, "paused", "the source stays paused");
    await c.destroySandbox({ sandboxId: "vm-src" });

    t0 = performance.now();
    const created = await c.createSandbox({ sandboxId: "vm-clone", teamId: TEAM, templateId: tpl, memoryMb: 256 });
    t.diagnostic(`create from the snapshot template ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(created.status, "running");
    const listed = (await c.listSandboxes({})).sandboxes[0];
    assert.deepEqual([listed?.templateId, listed?.memoryMb], [tpl, 512], "the snapshot's shape wins over the request");
    assert.equal(await sh("vm-clone", "cat /home/user/keep.txt"), "kept\n");
    const first = Number(await sh("vm-clone", "cat /tmp/count"));
    assert.ok(first >= 1, `counter restored: ${first}`);
    await new Promise((r) => setTimeout(r, 1500));
    const later = Number(await sh("vm-clone", "cat /tmp/count"));
    // Nothing started a counter in this capsule: only a restored memory image can count on.
    assert.ok(later > first, `the restored process keeps counting: ${first} → ${later}`);
    assert.equal((await sh("vm-clone", "printenv WRENN_SANDBOX_ID")).trim(), "vm-clone");

    await c.destroySandbox({ sandboxId: "vm-clone" });
    await c.deleteSnapshot({ teamId: TEAM, templateId: tpl });
  });
});
