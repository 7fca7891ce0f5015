import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { ExecFileRunner } from "../../exec/command-runner.js";
import { QemuVm } from "./qemu-vmm.js";

const qemu = await new ExecFileRunner().run(["qemu-system-x86_64", "--version"]).catch(() => undefined);
const skip = qemu?.exitCode === 0 ? false : "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)";
const dir = await mkdtemp(join(tmpdir(), "wrenn-qemu-vmm-"));
after(() => rm(dir, { recursive: true, force: true }));

test("QemuVm.start: QEMU exiting during start-up rejects with its stderr, not a timeout", { skip }, async () => {
  const t0 = performance.now();
  await assert.rejects(
    QemuVm.start({
      accel: "tcg",
      vcpus: 1,
      memoryMb: 64,
      kernel: join(dir, "no-such-kernel"),
      initrd: join(dir, "no-such-initrd"),
      tscKhz: 2_000_000,
      disk: join(dir, "no-such-disk.qcow2"),
      tap: "tap0",
      mac: "02:fc:00:00:00:01",
      qmpSocket: join(dir, "qmp.sock"),
      serialLog: join(dir, "serial.log"),
    }),
    (err: unknown) =>
      err instanceof PlatformError &&
      err.reason === "QEMU_START_FAILED" &&
      /no-such/.test(err.details?.["stderr"] ?? ""),
  );
  assert.ok(performance.now() - t0 < 10_000);
});

test("QemuVm.saveAndQuit refuses a state path that is not a plain absolute path", { skip }, async () => {
  const vm = Object.create(QemuVm.prototype) as QemuVm;
  await assert.rejects(vm.saveAndQuit("/tmp/x; rm -rf /"), /unsafe path/);
});
