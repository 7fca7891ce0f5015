import assert from "node:assert/strict";
import { test } from "node:test";
import { buildQemuArgv, guestCmdline, type QemuSpec } from "./qemu-argv.js";

const spec: QemuSpec = {
  accel: "tcg",
  vcpus: 1,
  memoryMb: 512,
  kernel: "/k/vmlinuz",
  initrd: "/k/initrd.cpio",
  tscKhz: 2_100_000,
  disk: "/s/root.qcow2",
  tap: "tap0",
  mac: "02:fc:00:00:00:01",
  qmpSocket: "/s/qmp.sock",
  serialLog: "/s/serial.log",
  netnsPath: "/run/netns/wrn-7",
};

const CMDLINE =
  "console=ttyS0 root=/dev/vda rw quiet loglevel=1 panic=-1 reboot=t tsc_early_khz=2100000 tsc=reliable " +
  "random.trust_cpu=on i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";

test("guestCmdline pins the measured kernel flags", () => {
  assert.equal(guestCmdline(2_100_000), CMDLINE);
});

test("buildQemuArgv: TCG microvm inside the netns, qcow2 root, TAP NIC, QMP socket", () => {
  assert.deepEqual(buildQemuArgv(spec), [
    "nsenter",
    "--net=/run/netns/wrn-7",
    "--",
    "qemu-system-x86_64",
    "-M",
    "microvm,x-option-roms=off,isa-serial=on",
    "-accel",
    "tcg,tb-size=64",
    "-cpu",
    "qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+arat",
    "-smp",
    "1",
    "-m",
    "512",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-kernel",
    "/k/vmlinuz",
    "-initrd",
    "/k/initrd.cpio",
    "-append",
    CMDLINE,
    "-drive",
    "id=root,file=/s/root.qcow2,format=qcow2,if=none,cache=unsafe",
    "-device",
    "virtio-blk-device,drive=root",
    "-netdev",
    "tap,id=n0,ifname=tap0,script=no,downscript=no",
    "-device",
    "virtio-net-device,netdev=n0,mac=02:fc:00:00:00:01",
    "-device",
    "virtio-rng-device",
    "-serial",
    "file:/s/serial.log",
    "-qmp",
    "unix:/s/qmp.sock,server=on,wait=off",
  ]);
});

test("buildQemuArgv: restore adds -incoming defer (QemuVm.start sends migrate-incoming fd:N); KVM swaps accel and CPU; no netns means no nsenter", () => {
  const argv = buildQemuArgv({ ...spec, accel: "kvm", incomingFd: 3, netnsPath: undefined, binary: "/opt/qemu" });
  assert.equal(argv[0], "/opt/qemu");
  assert.deepEqual(argv.slice(3, 7), ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]);
  assert.deepEqual(argv.slice(-2), ["-incoming", "defer"]);
});

test("buildQemuArgv: file-backed RAM keeps the default block name; shared only for the template VM", () => {
  const ramFlags = (shared: boolean) => {
    const argv = buildQemuArgv({ ...spec, ramFile: { path: "/t/ram", shared } });
    const at = argv.indexOf("-object");
    return argv.slice(at, at + 4);
  };
  assert.deepEqual(ramFlags(true), [
    "-object",
    "memory-backend-file,id=microvm.ram,size=512M,mem-path=/t/ram,share=on",
    "-machine",
    "memory-backend=microvm.ram",
  ]);
  assert.equal(ramFlags(false)[1], "memory-backend-file,id=microvm.ram,size=512M,mem-path=/t/ram,share=off");
  assert.equal(buildQemuArgv(spec).includes("-object"), false, "anonymous RAM by default");
});
