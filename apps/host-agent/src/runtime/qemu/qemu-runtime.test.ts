import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PlatformError } from "@wrenn/kit";
import { Process } from "@wrenn/protocol/envd/process";
import { ExecFileRunner, runChecked } from "../../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../../images/template.js";
import { NetnsNetwork } from "../../net/netns-network.js";
import { netnsSkipReason, ownedLeftovers, testNetConfig } from "../../net/netns-test-helpers.js";
import { guestRequest } from "./guest-http.js";
import { ensureGuestKernel } from "./guest-kernel.js";
import type { QemuPhase } from "./qemu-phases.js";
import { QemuRuntime } from "./qemu-runtime.js";
import { QemuVm } from "./qemu-vmm.js";

const runner = new ExecFileRunner();
const WRENN_DIR = "/var/lib/wrenn";
const config = testNetConfig();
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

/** Runs `sh -c script` in the guest through envd's Connect API; resolves with stdout. */
async function sh(envdUrl: string, script: string): Promise<string> {
  const client = createClient(
    Process,
    createConnectTransport({ baseUrl: envdUrl, httpVersion: "1.1", acceptCompression: [] }),
  );
  let out = "";
  const dec = new TextDecoder();
  for await (const res of client.start({ process: { cmd: "/bin/sh", args: ["-c", script] } })) {
    const ev = res.event?.event;
    if (ev?.case === "data" && ev.value.output.case === "stdout") out += dec.decode(ev.value.output.value);
  }
  return out;
}

/** Every QEMU process whose command line mentions `needle` (our state dir). */
async function qemuProcessesWith(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes("qemu-system") && cmd.includes(needle)) pids.push(Number(p));
  }
  return pids;
}

/** sha256 of a file (the template's RAM image), streamed. */
async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** The `mem-path=` of the QEMU running for `stateDir` (its file-backed RAM), if any. */
async function ramFileOf(stateDir: string): Promise<string | undefined> {
  const [pid] = await qemuProcessesWith(stateDir);
  const cmd = pid === undefined ? "" : await readFile(`/proc/${pid}/cmdline`, "utf8");
  return /mem-path=([^,\0]+),share=(on|off)/.exec(cmd)?.slice(1).join(" ");
}

if (skip) {
  test("QemuRuntime (real TCG microVM)", { skip }, () => {});
} else {
  const stateRoot = await mkdtemp(join(tmpdir(), "wrenn-qemu-test-"));

  const image = await buildImage({ wrennDir: WRENN_DIR, template: MINIMAL_TEMPLATE, sources, runner, ext4: true });
  const ext4 = image.ext4 ?? "";
  const network = new NetnsNetwork({ ...config, poolSize: 0 }, runner, { vmTap: {} });
  await network.start();
  after(async () => {
    try {
      await network[Symbol.asyncDispose]();
      assert.deepEqual(await qemuProcessesWith(stateRoot), [], "no QEMU process left");
      assert.deepEqual(await ownedLeftovers(runner, config.prefix), [], "no netns, veth, TAP or nft table left");
    } finally {
      await rm(stateRoot, { recursive: true, force: true });
    }
  });

  /** Creates a 512 MiB capsule in a fresh slot; returns it with the time create took. */
  async function createCapsule(runtime: QemuRuntime, id: string) {
    const slot = await network.acquire(id, { allowEgress: false });
    const t0 = performance.now();
    try {
      const sandbox = await runtime.create({
        sandboxId: id,
        templateId: "minimal",
        image: { rootfsDir: image.rootfs, ext4Path: ext4 },
        vcpus: 1,
        memoryMb: 512,
        diskMb: 2048,
        network: slot,
        stateDir: join(stateRoot, id),
      });
      return { sandbox, slot, ms: performance.now() - t0 };
    } catch (err) {
      await slot[Symbol.asyncDispose]();
      throw err;
    }
  }

  test("QemuRuntime: cold boot (no template snapshot) → /health; dispose leaves nothing", {
    timeout: 120_000,
  }, async (t) => {
    const runtime = new QemuRuntime({ wrennDir: WRENN_DIR, runner, templateSnapshots: false });
    const avail = await runtime.availability();
    t.diagnostic(avail.reason);
    assert.equal(avail.available, true);
    const created = await createCapsule(runtime, "sb-cold");
    const { slot, ms } = created;
    await using _slot = slot;
    // Disposed even when an assertion below fails (a failed test must not leave QEMU running).
    await using sandbox = created.sandbox;
    t.diagnostic(`cold boot → /health: ${ms.toFixed(0)} ms`);
    assert.equal(sandbox.envdUrl, `http://${slot.guestIp}:49983`);
    // Patient: right after its first /init envd loads its RPC code, seconds of CPU under TCG.
    assert.equal(await guestRequest(`${sandbox.envdUrl}/health`, "GET", undefined, 15_000), 200);
    await sandbox[Symbol.asyncDispose]();
    assert.equal((await sandbox.exited).reason, "destroyed");
    assert.deepEqual(await qemuProcessesWith(join(stateRoot, "sb-cold")), []);
    assert.deepEqual(await readdir(join(stateRoot, "sb-cold")), []);
  });

  test("QemuRuntime: create from the template snapshot, command, pause to a file → restore keeps memory and disk, clones are separate", {
    timeout: 180_000,
  }, async (t) => {
    const phases: QemuPhase[] = [];
    const runtime = new QemuRuntime({ wrennDir: WRENN_DIR, runner, onPhase: (p) => phases.push(p) });
    const a = await createCapsule(runtime, "sb-a");
    await using _slotA = a.slot;
    await using sandbox = a.sandbox;
    t.diagnostic(`create #1 (template snapshot made if missing, then restore) → /health: ${a.ms.toFixed(0)} ms`);
    const stateDir = join(stateRoot, "sb-a");
    assert.equal(await guestRequest(`${sandbox.envdUrl}/health`), 200);

    assert.equal((await sh(sandbox.envdUrl, "echo hello from $(uname -s)")).trim(), "hello from Linux");
    await sh(sandbox.envdUrl, "echo before-pause > /home/user/marker");
    // The guest RAM maps the template's RAM image copy-on-write: never shared writable.
    const ram = (await ramFileOf(stateDir)) ?? "";
    assert.match(ram, / off$/, `capsule RAM is a private mapping of the template's RAM image: ${ram}`);
    const ramFile = ram.replace(/ off$/, "");
    const ramHash = await sha256(ramFile);
    // Only in guest RAM (tmpfs): must survive pause/resume and stay invisible to the clone.
    await sh(sandbox.envdUrl, "head -c 8M /dev/urandom > /dev/shm/blob; echo a-only > /dev/shm/marker");
    // A counter that lives only in the shell's memory; it mirrors its value to a file (atomically, so a read never sees it empty).
    await sh(
      sandbox.envdUrl,
      "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done) >/dev/null 2>&1 </dev/null &",
    );
    await new Promise((r) => setTimeout(r, 1500));
    const before = Number(await sh(sandbox.envdUrl, "cat /tmp/count"));
    assert.ok(before >= 2, `counter ran before pause: ${before}`);
    const usage = await sandbox.usage();
    assert.ok(usage.memoryBytes > 50 * 1024 * 1024, `RSS ${usage.memoryBytes}`);

    // A second capsule restored from the same snapshot sees none of the first one's changes.
    phases.length = 0;
    const b = await createCapsule(runtime, "sb-b");
    // The restore path, step by step: the RAM is mapped, the guest's /init is the readiness signal.
    for (const p of [
      "kernel",
      "template snapshot",
      "overlay",
      "qemu start",
      "incoming load",
      "cont",
      "/init",
    ] as const) {
      assert.ok(phases.includes(p), `phase ${p} reported: ${phases.join(", ")}`);
    }
    await using _slotB = b.slot;
    await using clone = b.sandbox;
    t.diagnostic(`create #2 (template snapshot cached) → /health: ${b.ms.toFixed(0)} ms`);
    assert.equal((await sh(clone.envdUrl, "cat /home/user/marker 2>/dev/null || echo none")).trim(), "none");
    assert.equal((await sh(clone.envdUrl, "cat /dev/shm/marker 2>/dev/null || echo none")).trim(), "none");
    await sh(clone.envdUrl, "echo b-only > /dev/shm/marker; head -c 8M /dev/zero > /dev/shm/zeros");
    assert.equal(
      (await sh(sandbox.envdUrl, "cat /dev/shm/marker")).trim(),
      "a-only",
      "the clone's write stays its own",
    );

    const p0 = performance.now();
    assert.equal(await sandbox.pause(), "memory");
    const pauseMs = performance.now() - p0;
    const paused = await sandbox.usage();
    t.diagnostic(
      `pause (migrate to file + quit): ${pauseMs.toFixed(0)} ms, state+overlay ${(paused.diskBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.deepEqual(await qemuProcessesWith(stateDir), [], "paused capsule holds no QEMU process");
    assert.equal(await guestRequest(`${sandbox.envdUrl}/health`, "GET", undefined, 300), undefined);

    const r0 = performance.now();
    await sandbox.resume();
    t.diagnostic(`resume (restore) → /health: ${(performance.now() - r0).toFixed(0)} ms`);
    const afterResume = Number(await sh(sandbox.envdUrl, "cat /tmp/count"));
    assert.ok(afterResume >= before, `counter kept its value: ${before} → ${afterResume}`);
    await new Promise((r) => setTimeout(r, 1000));
    const later = Number(await sh(sandbox.envdUrl, "cat /tmp/count"));
    assert.ok(later > afterResume, `counter kept counting: ${afterResume} → ${later}`);
    assert.equal((await sh(sandbox.envdUrl, "cat /home/user/marker")).trim(), "before-pause");
    assert.equal((await sh(sandbox.envdUrl, "cat /dev/shm/marker")).trim(), "a-only", "RAM-only data kept by pause");
    assert.equal(await ramFileOf(stateDir), undefined, "a resumed capsule's RAM is its own (anonymous)");
    assert.equal(await sha256(ramFile), ramHash, "no capsule wrote to the template's RAM image");

    await sandbox[Symbol.asyncDispose]();
    assert.equal((await sandbox.exited).reason, "destroyed");
    assert.deepEqual(await qemuProcessesWith(stateDir), []);
    assert.deepEqual(await readdir(stateDir), [], "overlay, QMP socket, state file and console log removed");
  });

  test("QemuVm: a state file QEMU cannot load is QEMU_RESTORE_FAILED in QEMU's words; no QEMU left", {
    timeout: 60_000,
  }, async () => {
    const kernel = await ensureGuestKernel({ wrennDir: WRENN_DIR, runner });
    await using slot = await network.acquire("sb-bad", { allowEgress: false });
    const dir = join(stateRoot, "sb-bad");
    await mkdir(dir, { recursive: true });
    const disk = join(dir, "root.qcow2");
    await runChecked(runner, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", ext4, "-F", "raw", disk]);
    const bad = join(dir, "vm.state");
    await writeFile(bad, "not a migration stream\n".repeat(64));
    const spec = {
      accel: "tcg" as const,
      vcpus: 1,
      memoryMb: 512,
      kernel: kernel.kernel,
      initrd: kernel.initrd,
      tscKhz: 2_000_000,
      disk,
      tap: "tap0",
      mac: "02:fc:00:00:00:01",
      qmpSocket: join(dir, "qmp.sock"),
      serialLog: join(dir, "serial.log"),
      netnsPath: slot.netnsPath,
    };
    await assert.rejects(
      async () => {
        const vm = await QemuVm.start(spec, bad);
        try {
          await vm.waitIncomingLoaded();
        } finally {
          await vm.quit();
        }
      },
      (err: unknown) =>
        err instanceof PlatformError &&
        err.reason === "QEMU_RESTORE_FAILED" &&
        /^restore (failed|ended)/.test(err.message),
    );
    assert.deepEqual(await qemuProcessesWith(dir), []);
  });
}
