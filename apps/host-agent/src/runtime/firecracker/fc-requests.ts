/**
 * PURE builders for every Firecracker API call the driver makes. Each returns plain data
 * (method, path, body) so tests can validate every body against firecracker-api.yaml and the
 * api client stays a thin transport. Field names follow Firecracker's schema exactly: its
 * server rejects unknown fields, so a typo here is a boot failure in production.
 */
import { GUEST_PATHS } from "../../images/template.js";
import { VM_GUEST_IP, VM_TAP_IP } from "../../net/plan.js";

/** One call to the Firecracker API. */
export interface FcRequest {
  readonly method: "GET" | "PUT" | "PATCH";
  /** Path on the API socket, e.g. `/drives/rootfs`. */
  readonly path: string;
  /** JSON body; absent for GET. */
  readonly body?: unknown;
}

/** Firecracker's token bucket (RateLimiter.bandwidth / .ops). */
export interface TokenBucket {
  readonly size: number;
  readonly refill_time: number;
  readonly one_time_burst?: number;
}

/**
 * The seed's egress limit: 200 MiB per 1000 ms sustained with a 100 MiB one-time burst.
 * Kept as numbers from the reference (209715200 / 104857600) so the behaviour matches it.
 */
export const TX_BANDWIDTH: TokenBucket = { size: 209_715_200, refill_time: 1000, one_time_burst: 104_857_600 };

/** The guest's interface id; MMDS is reachable only through it. */
export const GUEST_IFACE_ID = "eth0";
/** The root drive id. */
export const ROOT_DRIVE_ID = "rootfs";
/** TAP device inside the slot's namespace (created by the network slot plan). */
export const DEFAULT_TAP = "tap0";

/**
 * Kernel command line. The guest address is the same in every slot (the namespace NATs it),
 * so a memory snapshot restores into any slot without reconfiguring the guest.
 */
export function bootArgs(init: string = GUEST_PATHS.init): string {
  return [
    "console=ttyS0",
    "reboot=k",
    "panic=1",
    "pci=off",
    "quiet",
    "loglevel=1",
    "clocksource=kvm-clock",
    `init=${init}`,
    `ip=${VM_GUEST_IP}::${VM_TAP_IP}:255.255.255.252:capsule:${GUEST_IFACE_ID}:off`,
  ].join(" ");
}

/** GET / — instance info; answers as soon as the API server is up (readiness probe). */
export function describeInstance(): FcRequest {
  return { method: "GET", path: "/" };
}

/** PUT /boot-source; `initrdPath` is sent only when the kernel needs an initramfs. */
export function putBootSource(kernelImagePath: string, args: string = bootArgs(), initrdPath?: string): FcRequest {
  return {
    method: "PUT",
    path: "/boot-source",
    body: {
      kernel_image_path: kernelImagePath,
      ...(initrdPath !== undefined ? { initrd_path: initrdPath } : {}),
      boot_args: args,
    },
  };
}

/** PUT /drives/{id} — a writable virtio-block drive (the capsule's private rootfs copy). */
export function putDrive(
  pathOnHost: string,
  opts: { driveId?: string; isRoot?: boolean; readOnly?: boolean } = {},
): FcRequest {
  const driveId = opts.driveId ?? ROOT_DRIVE_ID;
  return {
    method: "PUT",
    path: `/drives/${encodeURIComponent(driveId)}`,
    body: {
      drive_id: driveId,
      path_on_host: pathOnHost,
      is_root_device: opts.isRoot ?? true,
      is_read_only: opts.readOnly ?? false,
    },
  };
}

/** PUT /network-interfaces/{id} — the guest NIC on the slot's TAP, egress rate limited. */
export function putNetworkInterface(
  guestMac: string,
  opts: { ifaceId?: string; hostDevName?: string; tx?: TokenBucket } = {},
): FcRequest {
  const ifaceId = opts.ifaceId ?? GUEST_IFACE_ID;
  return {
    method: "PUT",
    path: `/network-interfaces/${encodeURIComponent(ifaceId)}`,
    body: {
      iface_id: ifaceId,
      host_dev_name: opts.hostDevName ?? DEFAULT_TAP,
      guest_mac: guestMac,
      tx_rate_limiter: { bandwidth: { ...(opts.tx ?? TX_BANDWIDTH) } },
    },
  };
}

/** PUT /machine-config. SMT off: it is x86-only and gives the guest no real extra capacity. */
export function putMachineConfig(vcpuCount: number, memSizeMib: number): FcRequest {
  if (!Number.isInteger(vcpuCount) || vcpuCount < 1 || vcpuCount > 32) {
    throw new RangeError(`vcpu_count must be an integer in 1..32, got ${vcpuCount}`);
  }
  // Firecracker accepts 1 or an even number of vCPUs.
  if (vcpuCount > 1 && vcpuCount % 2 !== 0) throw new RangeError(`vcpu_count must be 1 or even, got ${vcpuCount}`);
  if (!Number.isInteger(memSizeMib) || memSizeMib < 1) throw new RangeError(`bad mem_size_mib ${memSizeMib}`);
  return {
    method: "PUT",
    path: "/machine-config",
    body: { vcpu_count: vcpuCount, mem_size_mib: memSizeMib, smt: false },
  };
}

/** PUT /mmds/config — MMDS v2 (session tokens) reachable from the guest NIC only. */
export function putMmdsConfig(ifaceId: string = GUEST_IFACE_ID): FcRequest {
  return { method: "PUT", path: "/mmds/config", body: { version: "V2", network_interfaces: [ifaceId] } };
}

/** What envd reads from MMDS to learn who it is. */
export interface MmdsIdentity {
  readonly sandboxId: string;
  readonly templateId: string;
}

/** PUT /mmds — the identity envd reads; re-put after every restore (the reference lost envID). */
export function putMmds(identity: MmdsIdentity): FcRequest {
  if (identity.templateId === "") throw new RangeError("templateId must not be empty (envd would write an empty id)");
  return { method: "PUT", path: "/mmds", body: { instanceID: identity.sandboxId, envID: identity.templateId } };
}

/** PUT /actions InstanceStart — boots the configured VM. */
export function instanceStart(): FcRequest {
  return { method: "PUT", path: "/actions", body: { action_type: "InstanceStart" } };
}

/** PATCH /vm — pause or resume the vCPUs. */
export function patchVmState(state: "Paused" | "Resumed"): FcRequest {
  return { method: "PATCH", path: "/vm", body: { state } };
}

/** PUT /snapshot/create — full snapshot of a paused VM. */
export function createSnapshot(snapshotPath: string, memFilePath: string): FcRequest {
  return {
    method: "PUT",
    path: "/snapshot/create",
    body: { snapshot_type: "Full", snapshot_path: snapshotPath, mem_file_path: memFilePath },
  };
}

/** Where restored guest memory comes from: a memory file, or a userfaultfd page server socket. */
export interface MemoryBackend {
  readonly type: "File" | "Uffd";
  readonly path: string;
}

/** PUT /snapshot/load — on a fresh Firecracker process only. */
export function loadSnapshot(snapshotPath: string, mem: MemoryBackend, resumeVm: boolean): FcRequest {
  return {
    method: "PUT",
    path: "/snapshot/load",
    body: {
      snapshot_path: snapshotPath,
      mem_backend: { backend_type: mem.type, backend_path: mem.path },
      resume_vm: resumeVm,
    },
  };
}

/**
 * A stable locally administered unicast MAC derived from the sandbox id, so the guest sees
 * the same MAC after a restore (its ARP and DHCP state stay valid).
 */
export function guestMacFor(sandboxId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < sandboxId.length; i++) {
    h ^= sandboxId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const bytes = [0x02, 0xfc, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The full pre-boot sequence for a cold boot, in the order Firecracker needs it. */
export function coldBootSequence(opts: {
  kernelPath: string;
  /** The initramfs the kernel needs (Debian's cloud kernel loads its virtio drivers from it). */
  initrdPath?: string;
  rootfsPath: string;
  sandboxId: string;
  templateId: string;
  vcpus: number;
  memoryMb: number;
  bootArgs?: string;
}): FcRequest[] {
  return [
    putBootSource(opts.kernelPath, opts.bootArgs ?? bootArgs(), opts.initrdPath),
    putDrive(opts.rootfsPath),
    putNetworkInterface(guestMacFor(opts.sandboxId)),
    putMachineConfig(opts.vcpus, opts.memoryMb),
    // MMDS config must follow the interface it names.
    putMmdsConfig(),
    putMmds({ sandboxId: opts.sandboxId, templateId: opts.templateId }),
    instanceStart(),
  ];
}
