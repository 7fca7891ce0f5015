import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NetworkSlot } from "../../net/network-provider.js";
import type { SandboxSpec } from "../runtime.js";
import { writeFakeFirecrackerBinaries } from "./fake-fc-binary.js";
import { type FakeFirecracker, fakeFcLauncher } from "./fake-fc-server.js";
import { FcApiClient } from "./fc-api-client.js";
import { FirecrackerRuntime } from "./fc-runtime.js";
import { FcSchema } from "./fc-schema.js";
import { parseSnapshotMeta, snapshotPaths } from "./fc-snapshot-meta.js";

const schema = new FcSchema();
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "fc-rt-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const slot: NetworkSlot = {
  slot: 1,
  sandboxId: "cl-1",
  name: "fake-ns",
  netnsPath: "/run/netns/fake-ns",
  hostInterface: "fake-veth",
  hostIp: "10.0.0.1",
  guestIp: "10.0.0.2",
  egress: false,
};

/** A launcher that starts a schema-checking fake API per "process" and keeps every one. */
const fakeLauncher = (fakes: FakeFirecracker[]) => fakeFcLauncher(schema, fakes);

async function makeSpec(id: string): Promise<SandboxSpec> {
  const kernel = join(dir, "vmlinux");
  const ext4 = join(dir, "rootfs.ext4");
  await writeFile(kernel, "kernel");
  await writeFile(ext4, "ext4 image");
  return {
    sandboxId: id,
    templateId: "tpl-minimal",
    image: { rootfsDir: "/nonexistent", ext4Path: ext4, kernelPath: kernel },
    vcpus: 2,
    memoryMb: 256,
    diskMb: 1024,
    network: slot,
    stateDir: join(dir, "state", id),
  };
}

describe("FirecrackerRuntime", () => {
  it("reports honestly that it cannot run here", async (t) => {
    const rt = new FirecrackerRuntime({ binary: "firecracker-definitely-missing" });
    const a = await rt.availability();
    assert.equal(a.available, false);
    assert.match(a.reason, /^unavailable: no firecracker binary/);
    const real = await new FirecrackerRuntime().availability();
    t.diagnostic(`this machine: ${real.reason}`);
  });

  it("creates, pauses and resumes over the API; the template id survives via the snapshot metadata", async () => {
    const fakes: FakeFirecracker[] = [];
    const healthChecks: string[] = [];
    const rt = new FirecrackerRuntime({
      launcher: fakeLauncher(fakes),
      waitEnvd: async (url) => {
        healthChecks.push(url);
      },
    });
    const spec = await makeSpec("cl-1");
    const sb = await rt.create(spec);
    assert.equal(sb.envdUrl, "http://10.0.0.2:49983");
    assert.deepEqual(healthChecks, ["http://10.0.0.2:49983/health"]);
    const first = fakes[0];
    assert.ok(first);
    assert.equal(first.state, "Running");
    assert.deepEqual(first.requests.find((r) => r.path === "/drives/rootfs")?.body, {
      drive_id: "rootfs",
      path_on_host: join(spec.stateDir, "rootfs.ext4"),
      is_root_device: true,
      is_read_only: false,
    });
    assert.equal(await readFile(join(spec.stateDir, "rootfs.ext4"), "utf8"), "ext4 image", "private rootfs copy");

    for (let round = 1; round <= 3; round++) {
      assert.equal(await sb.pause(), "memory");
      const paths = snapshotPaths(spec.stateDir);
      const meta = parseSnapshotMeta(await readFile(paths.meta, "utf8"));
      assert.equal(meta.templateId, "tpl-minimal");
      const paused = fakes.at(-1);
      assert.deepEqual(
        paused?.requests.slice(-2).map((r) => r.body),
        [{ state: "Paused" }, { snapshot_type: "Full", snapshot_path: paths.vmstate, mem_file_path: paths.memfile }],
      );
      await sb.resume();
      const fresh = fakes.at(-1);
      assert.equal(fakes.length, round + 1, "each resume starts a new VMM process");
      assert.deepEqual(
        fresh?.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body ?? null)}`),
        [
          "GET / null",
          `PUT /snapshot/load ${JSON.stringify({ snapshot_path: paths.vmstate, mem_backend: { backend_type: "File", backend_path: paths.memfile }, resume_vm: false })}`,
          `PATCH /vm {"state":"Resumed"}`,
          `PUT /mmds {"instanceID":"cl-1","envID":"tpl-minimal"}`,
        ],
      );
      assert.equal(fresh?.state, "Running");
    }
    const usage = await sb.usage();
    assert.ok(usage.diskBytes > 0);
    await sb[Symbol.asyncDispose]();
    assert.deepEqual(await sb.exited, { code: null, signal: null, reason: "destroyed" });
    assert.equal(existsSync(spec.stateDir), false, "state dir removed on destroy");
  });

  it("resumes with the template id from disk, not from memory", async () => {
    const fakes: FakeFirecracker[] = [];
    const rt = new FirecrackerRuntime({ launcher: fakeLauncher(fakes), waitEnvd: async () => {} });
    const spec = await makeSpec("cl-2");
    await using sb = await rt.create(spec);
    await sb.pause();
    const { meta } = snapshotPaths(spec.stateDir);
    // Simulates an agent that lost its in-memory record: the file is the truth.
    const onDisk = JSON.parse(await readFile(meta, "utf8")) as Record<string, unknown>;
    await writeFile(meta, JSON.stringify({ ...onDisk, templateId: "tpl-from-disk" }));
    await sb.resume();
    assert.deepEqual(fakes.at(-1)?.requests.at(-1)?.body, { instanceID: "cl-2", envID: "tpl-from-disk" });
    await sb.pause();
    await writeFile(meta, JSON.stringify({ ...onDisk, templateId: "" }));
    await assert.rejects(sb.resume(), /templateId missing or empty/);
    assert.equal(sb.state, "paused");
  });

  it("rolls a failed snapshot back to running and cleans up a failed create", async () => {
    const fakes: FakeFirecracker[] = [];
    const rt = new FirecrackerRuntime({ launcher: fakeLauncher(fakes), waitEnvd: async () => {} });
    const spec = await makeSpec("cl-3");
    await using sb = await rt.create(spec);
    const vm = fakes[0];
    assert.ok(vm);
    vm.failOnce.set("PUT /snapshot/create", "Cannot create snapshot: No space left on device");
    await assert.rejects(sb.pause(), /snapshot\/create failed with 400: Cannot create snapshot: No space left/);
    assert.equal(vm.state, "Running", "the VM was resumed after the failed snapshot");
    assert.equal(sb.state, "running");
    assert.deepEqual(vm.requests.at(-1)?.body, { state: "Resumed" });
    // And the capsule still pauses fine afterwards.
    assert.equal(await sb.pause(), "memory");
    const failing = new FirecrackerRuntime({
      launcher: fakeLauncher(fakes),
      waitEnvd: async () => {
        throw new Error("envd never became healthy");
      },
    });
    const spec4 = await makeSpec("cl-4");
    await assert.rejects(failing.create(spec4), /envd never became healthy/);
    assert.equal(existsSync(spec4.stateDir), false, "failed create leaves no state dir");
  });
});

describe("FirecrackerRuntime with the real process launcher and a stand-in binary", () => {
  const skip = process.getuid?.() !== 0 ? "needs root (nsenter --net)" : false;
  it("creates, pauses, resumes in a child process; a crash resolves exited", { skip }, async () => {
    const bins = await writeFakeFirecrackerBinaries(dir);
    const rt = new FirecrackerRuntime({ binary: bins.serving, waitEnvd: async () => {} });
    const spec = { ...(await makeSpec("cl-5")), network: { ...slot, netnsPath: "/proc/self/ns/net" } };
    await using sb = await rt.create(spec);
    const before = await sb.usage();
    assert.ok(before.memoryBytes > 0, "RSS of the VMM process is read from /proc");
    assert.equal(await sb.pause(), "memory");
    await sb.resume();
    assert.equal(sb.state, "running");
    const api = new FcApiClient(join(spec.stateDir, "fc.sock"));
    const info = (await api.send({ method: "GET", path: "/" })) as { state: string };
    assert.equal(info.state, "Running");
    // nsenter and env exec, so the pid the handle holds is the VMM itself.
    // Kill the VMM behind the agent's back: the handle reports it, it does not hang.
    const pid = sb.pid;
    assert.ok(pid !== undefined && pid !== process.pid);
    process.kill(pid, "SIGKILL");
    const exit = await sb.exited;
    assert.equal(exit.signal, "SIGKILL");
    assert.match(exit.reason ?? "", /firecracker exited/);
    assert.equal(sb.state, "crashed");
    assert.equal(existsSync(spec.stateDir), true, "kept until destroy");
    await sb[Symbol.asyncDispose]();
    assert.equal(existsSync(spec.stateDir), false, "destroy after a crash still cleans up");
  });

  it("a VMM that dies at startup fails create with its stderr and leaves nothing behind", { skip }, async () => {
    const bins = await writeFakeFirecrackerBinaries(dir);
    const rt = new FirecrackerRuntime({ binary: bins.failing, waitEnvd: async () => {} });
    const spec = { ...(await makeSpec("cl-6")), network: { ...slot, netnsPath: "/proc/self/ns/net" } };
    await assert.rejects(rt.create(spec), /\/dev\/kvm: Permission denied/);
    assert.equal(existsSync(spec.stateDir), false);
  });
});

describe("FirecrackerRuntime real boot", async () => {
  const rt = new FirecrackerRuntime();
  const avail = await rt.availability();
  const kernel = process.env["WRENN_FC_KERNEL"];
  const skip = !avail.available
    ? `${avail.reason} (Firecracker is not installable on this machine)`
    : process.getuid?.() !== 0
      ? "needs root (network namespace, /dev/kvm)"
      : !kernel || !existsSync(kernel)
        ? "set WRENN_FC_KERNEL to an uncompressed vmlinux built for Firecracker"
        : false;
  it("boots the minimal image to envd /health, pauses and resumes", { skip }, async () => {
    // Only reached where Firecracker and hardware KVM exist (never on this machine): the flow
    // is the one exercised above against the fake API, with the real launcher and a real slot.
    const { ExecFileRunner } = await import("../../exec/command-runner.js");
    const { NetnsNetwork } = await import("../../net/netns-network.js");
    const { testNetConfig } = await import("../../net/netns-test-helpers.js");
    const { buildImage, defaultImageSources } = await import("../../images/image-builder.js");
    const { MINIMAL_TEMPLATE } = await import("../../images/template.js");
    const runner = new ExecFileRunner();
    const image = await buildImage({
      wrennDir: "/var/lib/wrenn",
      template: MINIMAL_TEMPLATE,
      sources: defaultImageSources(),
      runner,
      ext4: true,
    });
    await using net = new NetnsNetwork(testNetConfig(), runner, { vmTap: {} });
    await net.start();
    await using slot = await net.acquire("cl-real", { allowEgress: false });
    await using sb = await rt.create({
      sandboxId: "cl-real",
      templateId: "minimal",
      image: { rootfsDir: image.rootfs, ext4Path: image.ext4, kernelPath: kernel },
      vcpus: 1,
      memoryMb: 512,
      diskMb: 2048,
      network: slot,
      stateDir: join(dir, "real"),
    });
    assert.equal(await sb.pause(), "memory");
    await sb.resume();
    assert.equal((await fetch(`${sb.envdUrl}/health`)).ok, true);
  });
});
