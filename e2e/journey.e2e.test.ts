/**
 * A capsule's whole life through the /v1 API with plain fetch / http / ws
 * clients, once per runtime: create → exec → exec stream → PTY → 1 GiB up and
 * down (constant memory) → pause → resume with its processes still counting →
 * snapshot → a capsule from the snapshot → destroy. The namespace runtime
 * always runs; QEMU (TCG here) runs where qemu and debootstrap are installed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { downloadHashed, uploadGenerated } from "./big-file.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";
import { WsClient } from "./ws-client.js";

const MiB = 1024 * 1024;
/** The big file's size; `WRENN_E2E_FILE_MIB` shrinks it for a quick local run. */
const FILE_BYTES = Number(process.env["WRENN_E2E_FILE_MIB"] ?? 1024) * MiB;
/**
 * How much this process's RSS (control plane + test client) may grow while
 * 1 GiB passes through: a quarter of the file. A control plane that buffered
 * the body would grow by the whole file.
 */
const RSS_BUDGET_MIB = 256;

function qemuSkipReason(): string | false {
  if (stackSkipReason) return stackSkipReason;
  if (!existsSync("/usr/bin/qemu-system-x86_64")) return "qemu-system-x86_64 is missing";
  if (!existsSync("/usr/sbin/debootstrap")) return "debootstrap is missing (the guest image is built with it)";
  return false;
}

interface ExecJson {
  stdout: string;
  stderr: string;
  exit_code: number;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

const runtimes = [
  { runtime: "namespace", skip: stackSkipReason },
  { runtime: "qemu", skip: qemuSkipReason() },
] as const;

for (const { runtime, skip } of runtimes) {
  describe(`a capsule's life through the API (${runtime} runtime)`, { skip }, () => {
    let s: Stack;
    let id: string;
    const keyHeader = () => ({ "x-api-key": s.teamA.apiKey });
    const sh = async (capsule: string, script: string, status = 200) =>
      body<ExecJson>(
        await s.api(`/v1/capsules/${capsule}/exec`, json({ cmd: "/bin/sh", args: ["-c", script], timeout_sec: 600 })),
        status,
      );
    const counter = async (capsule: string) => Number((await sh(capsule, "cat /root/count")).stdout);

    before(async () => {
      s = await startStack({ WRENN_RUNTIME: runtime });
    });
    after(async () => {
      await s?.[Symbol.asyncDispose]();
    });

    test("create and exec", async () => {
      const created = await body<{ id: string; status: string }>(
        await s.api("/v1/capsules", json({ timeout_sec: 0, memory_mb: 512 })),
        201,
      );
      assert.equal(created.status, "running");
      id = created.id;
      const out = await sh(id, "echo hello from $(uname -s); exit 3");
      assert.deepEqual([out.stdout, out.exit_code], ["hello from Linux\n", 3]);
    });

    test("exec stream and PTY over WebSockets", async () => {
      const wsBase = s.base.replace("http", "ws");
      const stream = new WsClient(`${wsBase}/v1/capsules/${id}/exec/stream`, keyHeader());
      await stream.open();
      stream.send({ type: "start", cmd: "/bin/sh", args: ["-c", "for i in 1 2 3; do echo line-$i; sleep 0.1; done"] });
      assert.equal((await stream.waitFor((m) => m.type === "exit", 60_000))["exit_code"], 0);
      const lines = stream.messages.filter((m) => m.type === "stdout").map((m) => m["data"]);
      assert.equal(lines.join(""), "line-1\nline-2\nline-3\n");

      const pty = new WsClient(`${wsBase}/v1/capsules/${id}/pty`, keyHeader());
      await pty.open();
      pty.send({ type: "start", cmd: "/bin/sh", cols: 80, rows: 24 });
      await pty.waitFor((m) => m.type === "started", 60_000);
      pty.send({ type: "input", data: Buffer.from("echo pty-$((6*7))\n").toString("base64") });
      await pty.waitFor(() => pty.output().includes("pty-42"), 60_000);
      pty.send({ type: "kill" });
      await pty.closed;
    });

    test(`${FILE_BYTES / MiB} MiB up and down, streamed in constant memory`, async (t) => {
      const url = (op: string) => `${s.base}/v1/capsules/${id}/files/stream/${op}`;
      const rate = (ms: number) => `${(FILE_BYTES / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
      let t0 = performance.now();
      const up = await uploadGenerated(url("write"), keyHeader(), "/root/big.bin", FILE_BYTES);
      const upMs = performance.now() - t0;
      assert.ok(up.peakRssGrowthMiB < RSS_BUDGET_MIB, `upload grew RSS by ${up.peakRssGrowthMiB.toFixed(0)} MiB`);
      // The size on the capsule's disk; the content is proven by the download's hash below.
      assert.equal((await sh(id, "stat -c %s /root/big.bin")).stdout, `${FILE_BYTES}\n`);
      t0 = performance.now();
      const down = await downloadHashed(url("read"), keyHeader(), { path: "/root/big.bin" });
      const downMs = performance.now() - t0;
      assert.deepEqual([down.bytes, down.sha256], [FILE_BYTES, up.sha256]);
      assert.ok(down.peakRssGrowthMiB < RSS_BUDGET_MIB, `download grew RSS by ${down.peakRssGrowthMiB.toFixed(0)} MiB`);
      t.diagnostic(
        `up ${rate(upMs)} (RSS +${up.peakRssGrowthMiB.toFixed(0)} MiB), ` +
          `down ${rate(downMs)} (RSS +${down.peakRssGrowthMiB.toFixed(0)} MiB)`,
      );
      await sh(id, "rm /root/big.bin");
    });

    test("pause and resume keep the running processes and their state", async () => {
      await sh(id, "echo 0 > /root/count");
      await body(
        await s.api(
          `/v1/capsules/${id}/exec`,
          json({
            cmd: "/bin/sh",
            args: ["-c", "i=0; while :; do i=$((i+1)); echo $i > /root/count; sleep 0.1; done"],
            background: true,
            tag: "counter",
          }),
        ),
        202,
      );
      while ((await counter(id)) < 3) await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        (await body<{ status: string }>(await s.api(`/v1/capsules/${id}/pause`, { method: "POST" }), 200)).status,
        "paused",
      );
      assert.equal((await s.api(`/v1/capsules/${id}/exec`, json({ cmd: "/bin/true" }))).status, 409);
      assert.equal(
        (await body<{ status: string }>(await s.api(`/v1/capsules/${id}/resume`, { method: "POST" }), 200)).status,
        "running",
      );
      const before = await counter(id);
      while ((await counter(id)) <= before) await new Promise((r) => setTimeout(r, 100));
      const { processes } = await body<{ processes: { tag?: string }[] }>(
        await s.api(`/v1/capsules/${id}/processes`),
        200,
      );
      assert.ok(
        processes.some((p) => p.tag === "counter"),
        "the tagged process survived pause and resume",
      );
    });

    test("snapshot, a capsule from it, destroy", async () => {
      await sh(id, "echo kept-$((40+2)) > /root/marker");
      const name = `journey-${runtime}`;
      const tpl = await body<{ name: string; type: string }>(
        await s.api("/v1/snapshots", json({ sandbox_id: id, name })),
        201,
      );
      assert.deepEqual([tpl.name, tpl.type], [name, "snapshot"]);
      const clone = await body<{ id: string; status: string; template: string }>(
        await s.api("/v1/capsules", json({ template: name, timeout_sec: 0 })),
        201,
      );
      assert.deepEqual([clone.status, clone.template], ["running", name]);
      assert.equal((await sh(clone.id, "cat /root/marker")).stdout, "kept-42\n");
      if (runtime === "qemu") {
        // A VM snapshot holds memory too: the counter started before it goes on counting in the clone.
        const start = await counter(clone.id);
        while ((await counter(clone.id)) <= start) await new Promise((r) => setTimeout(r, 100));
      }
      for (const capsule of [clone.id, id]) {
        assert.equal((await s.api(`/v1/capsules/${capsule}`, { method: "DELETE" })).status, 204);
        assert.equal((await body<{ status: string }>(await s.api(`/v1/capsules/${capsule}`), 200)).status, "stopped");
      }
      assert.equal((await s.api(`/v1/snapshots/${name}`, { method: "DELETE" })).status, 204);
    });
  });
}
