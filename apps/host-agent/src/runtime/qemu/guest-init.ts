import { VM_GUEST_IP, VM_TAP_IP } from "../../net/plan.js";

/** Where the initramfs mounts the root disk before switching to it. */
const NEW_ROOT = "/newroot";

/** Guest program started after switch_root (tini → envd, from the image). */
export const GUEST_INIT = "/usr/local/bin/wrenn-init";

/**
 * PURE: the initramfs `/init` (busybox sh). Fixed text: the only inputs are the module
 * paths found at build time and constants of this code base, never capsule data.
 *
 * Why an initramfs at all: Debian's kernels build virtio as modules and leave IP_PNP and
 * DEVTMPFS_MOUNT off (vm-on-this-machine.md §2), so something must load the drivers, set the
 * address and mount /dev before the image's own init runs. The network is configured here,
 * before switch_root, because the image has no `ip` guaranteed and addresses are kernel state
 * that survives the switch.
 */
export function initramfsInitScript(modules: readonly string[]): string {
  const lines = [
    "#!/bin/busybox sh",
    "/bin/busybox --install -s /bin",
    "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev",
    ...modules.map((m) => `insmod ${m}`),
    // The root disk appears asynchronously once virtio_mmio has probed the ACPI devices.
    "i=0",
    "while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done",
    `mkdir -p ${NEW_ROOT}`,
    `mount -t ext4 -o rw /dev/vda ${NEW_ROOT} || { echo 'wrenn: cannot mount /dev/vda'; poweroff -f; }`,
    "ip link set lo up",
    `ip addr add ${VM_GUEST_IP}/30 dev eth0`,
    "ip link set eth0 up",
    `ip route add default via ${VM_TAP_IP}`,
    `mkdir -p ${NEW_ROOT}/dev ${NEW_ROOT}/proc ${NEW_ROOT}/sys ${NEW_ROOT}/run ${NEW_ROOT}/tmp`,
    `mount --move /dev ${NEW_ROOT}/dev`,
    `mount --move /proc ${NEW_ROOT}/proc`,
    `mount --move /sys ${NEW_ROOT}/sys`,
    `mkdir -p ${NEW_ROOT}/dev/pts ${NEW_ROOT}/dev/shm`,
    `mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts ${NEW_ROOT}/dev/pts`,
    `mount -t tmpfs -o mode=1777 tmpfs ${NEW_ROOT}/dev/shm`,
    `mount -t tmpfs -o mode=755 tmpfs ${NEW_ROOT}/run`,
    "hostname sandbox",
    "echo 'wrenn: starting guest init'",
    `exec switch_root ${NEW_ROOT} ${GUEST_INIT}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** PURE: parses `modprobe --show-depends` output into insmod paths relative to `treeRoot`, first occurrence kept. */
export function parseShowDepends(output: string, treeRoot: string): string[] {
  const seen = new Set<string>();
  for (const line of output.split("\n")) {
    const m = /^insmod (\S+)/.exec(line.trim());
    if (!m?.[1]) continue;
    const path = m[1].startsWith(treeRoot) ? m[1].slice(treeRoot.length) : m[1];
    seen.add(path.startsWith("/") ? path : `/${path}`);
  }
  return [...seen];
}
