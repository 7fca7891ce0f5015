import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import type { NetworkSlot } from "../net/network-provider.js";
import { type FakeFirecracker, fakeFcLauncher } from "../runtime/firecracker/fake-fc-server.js";
import { ensureFirecrackerKernel, type FirecrackerKernel, isElf } from "../runtime/firecracker/fc-kernel.js";
import { bootArgs } from "../runtime/firecracker/fc-requests.js";
import { FirecrackerRuntime } from "../runtime/firecracker/fc-runtime.js";
import { FcSchema } from "../runtime/firecracker/fc-schema.js";
import type { RuntimeImage } from "../runtime/runtime.js";
import { TemplateStore } from "../templates/template-store.js";
import { ImageResolver } from "./image-resolver.js";

const runner = new ExecFileRunner();
const dir = await mkdtemp(join(tmpdir(), "wrenn-fc-resolve-"));
after(() => rm(dir, { recursive: true, force: true }));
const TEAM = "11111111-1111-4111-8111-111111111111";
const TEMPLATE = "22222222-2222-4222-8222-222222222222";

const slot: NetworkSlot = {
  slot: 1,
  sandboxId: "fc-r1",
  name: "fake-ns",
  netnsPath: "/run/netns/fake-ns",
  hostInterface: "fake-veth",
  hostIp: "10.0.0.1",
  guestIp: "10.0.0.2",
  egress: false,
};

/** A template store holding one flattened (ext4 only) firecracker template. */
async function storeWithTemplate(): Promise<TemplateStore> {
  const templates = new TemplateStore(join(dir, "templates"), runner);
  if (await templates.read(TEAM, TEMPLATE)) return templates;
  await templates.create(TEAM, TEMPLATE, async (tmp) => {
    await writeFile(join(tmp, "rootfs.ext4"), "ext4 image");
    return {
      kind: "base",
      runtime: "firecracker",
      mode: "filesystem",
      note: "image only",
      files: { ext4: "rootfs.ext4" },
      sourceSandboxId: "src",
      vcpus: 1,
      memoryMb: 256,
    };
  });
  return templates;
}

/** Cold-boots `image` on a schema-checking fake Firecracker; the boot-source body it received. */
async function bootSourceBody(image: RuntimeImage): Promise<unknown> {
  const fakes: FakeFirecracker[] = [];
  const rt = new FirecrackerRuntime({ launcher: fakeFcLauncher(new FcSchema(), fakes), waitEnvd: async () => {} });
  const sb = await rt.create({
    sandboxId: "fc-r1",
    templateId: TEMPLATE,
    image,
    vcpus: 1,
    memoryMb: 256,
    diskMb: 1024,
    network: slot,
    stateDir: join(dir, "state", "fc-r1"),
  });
  await sb[Symbol.asyncDispose]();
  return fakes[0]?.requests.find((r) => r.path === "/boot-source")?.body;
}

describe("ImageResolver for the firecracker runtime", () => {
  it("adds the kernel and initramfs to the image, made once, and they reach the boot source", async () => {
    const templates = await storeWithTemplate();
    const kernel: FirecrackerKernel = { kernelPath: "/k/vmlinux", initrdPath: "/k/initrd.cpio", cached: true };
    let made = 0;
    let failFirst = true;
    const resolver = new ImageResolver({
      cacheDir: dir,
      runtime: "firecracker",
      runner,
      templates,
      firecrackerKernel: async () => {
        made++;
        if (failFirst) {
          failFirst = false;
          throw new Error("apt unreachable");
        }
        return kernel;
      },
    });
    await assert.rejects(resolver.resolve(TEMPLATE, "", TEAM), /apt unreachable/);
    const image = await resolver.resolve(TEMPLATE, "", TEAM);
    assert.deepEqual(image, {
      rootfsDir: templates.dir(TEAM, TEMPLATE),
      ext4Path: join(templates.dir(TEAM, TEMPLATE), "rootfs.ext4"),
      kernelPath: "/k/vmlinux",
      initrdPath: "/k/initrd.cpio",
    });
    await resolver.resolve(TEMPLATE, "", TEAM);
    assert.equal(made, 2, "a failure is retried, a success is kept");
    assert.deepEqual(await bootSourceBody(image), {
      kernel_image_path: "/k/vmlinux",
      initrd_path: "/k/initrd.cpio",
      boot_args: bootArgs(),
    });
  });

  it("other runtimes get no kernel from the resolver (QEMU finds its own)", async () => {
    const templates = await storeWithTemplate();
    const resolver = new ImageResolver({
      cacheDir: dir,
      runtime: "qemu",
      runner,
      templates,
      firecrackerKernel: async () => assert.fail("not for qemu"),
    });
    await assert.rejects(resolver.resolve(TEMPLATE, "", TEAM), /made by the firecracker runtime/);
  });

  const cloud = "/var/lib/wrenn/kernels/cloud";
  const cachedKernel = existsSync(cloud) && readdirSync(cloud).some((d) => existsSync(join(cloud, d, "vmlinuz")));
  it("by default the kernel is the ELF taken out of the cached Debian cloud kernel", {
    skip: cachedKernel ? false : "no cached guest kernel under /var/lib/wrenn/kernels/cloud",
    timeout: 300_000,
  }, async () => {
    const k = await ensureFirecrackerKernel({ wrennDir: "/var/lib/wrenn", runner });
    const fh = await open(k.kernelPath, "r");
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    await fh.close();
    assert.equal(isElf(head), true, `${k.kernelPath} is an ELF`);
    assert.ok(existsSync(k.initrdPath));
    const again = await ensureFirecrackerKernel({ wrennDir: "/var/lib/wrenn", runner });
    assert.deepEqual([again.kernelPath, again.cached], [k.kernelPath, true]);
    const image = await new ImageResolver({
      cacheDir: "/var/lib/wrenn",
      runtime: "firecracker",
      runner,
      templates: await storeWithTemplate(),
    }).resolve(TEMPLATE, "", TEAM);
    assert.deepEqual(await bootSourceBody(image), {
      kernel_image_path: k.kernelPath,
      initrd_path: k.initrdPath,
      boot_args: bootArgs(),
    });
  });
});
