import type { Argv } from "../../exec/command-runner.js";
import type { PidFiles } from "../../exec/pid-files.js";

/** Everything that shapes one QEMU command line. Restore needs the identical spec plus `incomingFd`. */
export interface QemuSpec {
  /** @default "qemu-system-x86_64" */
  readonly binary?: string;
  /** "tcg" everywhere; "kvm" only with hardware VT-x/AMD-V or a PVM guest kernel (vm-on-this-machine.md §0). */
  readonly accel: "tcg" | "kvm";
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly kernel: string;
  readonly initrd: string;
  /** Host TSC in kHz: stops the PIT calibration hang under TCG (pitfall 6). */
  readonly tscKhz: number;
  /** Per-capsule qcow2 overlay (root disk, /dev/vda). */
  readonly disk: string;
  /** TAP device inside the capsule's netns. */
  readonly tap: string;
  readonly mac: string;
  readonly qmpSocket: string;
  readonly serialLog: string;
  /** netns to run in (QEMU opens the TAP there); wraps the argv in `nsenter --net=`. */
  readonly netnsPath?: string;
  /**
   * Guest RAM mapped from a file instead of anonymous memory (the template snapshot's RAM image).
   * `shared`: the template VM itself, whose RAM writes land in the file (and, with
   * x-ignore-shared, stay out of the migration stream). Not shared: a capsule restoring from the
   * template maps the file copy-on-write (MAP_PRIVATE), so its writes stay its own and pages
   * it never writes are the host page cache's, shared by every capsule of that template.
   * Absent: anonymous RAM under the same block name, so any state file restores into it.
   */
  readonly ramFile?: { readonly path: string; readonly shared: boolean };
  /**
   * When set, QEMU starts with `-incoming defer` and QemuVm.start has it read the migration
   * stream from this inherited fd (restore).
   */
  readonly incomingFd?: number;
  /** Where QEMU's PID is recorded while it runs (crash cleanup); not part of the argv. */
  readonly pidFiles?: PidFiles;
}

/** PURE: the guest kernel command line (no network settings: the initramfs sets them, IP_PNP is off). */
export function guestCmdline(tscKhz: number): string {
  return [
    "console=ttyS0",
    "root=/dev/vda",
    "rw",
    "quiet",
    "loglevel=1",
    "panic=-1",
    "reboot=t",
    `tsc_early_khz=${Math.round(tscKhz)}`,
    "tsc=reliable",
    "random.trust_cpu=on",
    "i8042.noaux",
    "i8042.nomux",
    "i8042.nopnp",
    "i8042.dumbkbd",
  ].join(" ");
}

/**
 * RAM block name: the microvm machine's default, so a file-backed RAM (template) and a
 * default one (resume from a capsule's own state file) migrate into each other.
 */
const RAM_ID = "microvm.ram";

/** PURE: the RAM backend flags (none: QEMU's default anonymous RAM, same block name). */
function ramArgs(spec: QemuSpec): string[] {
  if (spec.ramFile === undefined) return [];
  const { path, shared } = spec.ramFile;
  return [
    "-object",
    `memory-backend-file,id=${RAM_ID},size=${spec.memoryMb}M,mem-path=${path},share=${shared ? "on" : "off"}`,
    "-machine",
    `memory-backend=${RAM_ID}`,
  ];
}

/**
 * PURE: the QEMU argv for a microvm capsule (flags measured in vm-on-this-machine.md §1 and the
 * recommended design): microvm with ACPI and RTC on, a virtio-blk root on a qcow2 overlay, a
 * virtio-net NIC on the netns TAP, virtio-rng, QMP on a unix socket, no display, no defaults.
 */
export function buildQemuArgv(spec: QemuSpec): Argv {
  const accel =
    spec.accel === "kvm"
      ? ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
      : // An x86-64-v2 model boots faster under TCG than `max`; +arat lets NOHZ idle (pitfalls 7/8).
        ["-accel", "tcg,tb-size=64", "-cpu", "qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+arat"];
  const qemu: string[] = [
    spec.binary ?? "qemu-system-x86_64",
    "-M",
    "microvm,x-option-roms=off,isa-serial=on",
    ...accel,
    "-smp",
    String(spec.vcpus),
    "-m",
    String(spec.memoryMb),
    ...ramArgs(spec),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-kernel",
    spec.kernel,
    "-initrd",
    spec.initrd,
    "-append",
    guestCmdline(spec.tscKhz),
    "-drive",
    `id=root,file=${spec.disk},format=qcow2,if=none,cache=unsafe`,
    "-device",
    "virtio-blk-device,drive=root",
    "-netdev",
    `tap,id=n0,ifname=${spec.tap},script=no,downscript=no`,
    "-device",
    `virtio-net-device,netdev=n0,mac=${spec.mac}`,
    "-device",
    "virtio-rng-device",
    "-serial",
    `file:${spec.serialLog}`,
    "-qmp",
    `unix:${spec.qmpSocket},server=on,wait=off`,
    // Deferred: migration capabilities must be set over QMP before the stream is read.
    ...(spec.incomingFd === undefined ? [] : ["-incoming", "defer"]),
  ];
  if (spec.netnsPath === undefined) return qemu as unknown as Argv;
  // nsenter execs QEMU in place, so the spawned PID is QEMU's own PID.
  return ["nsenter", `--net=${spec.netnsPath}`, "--", ...qemu];
}
