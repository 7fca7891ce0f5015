import type { Argv } from "../exec/command-runner.js";
import { type NetConfig, type SlotLayout, slotLayout } from "./net-config.js";

/** One command of a plan; `stdin` feeds `ip -batch -` / `nft -f -` (never a shell). */
export interface PlanStep {
  readonly argv: Argv;
  readonly stdin?: string;
}

/** What it takes to create and to remove one slot. */
export interface SlotPlan {
  readonly layout: SlotLayout;
  readonly setup: readonly PlanStep[];
  /**
   * Idempotent removal: `ip -force -batch` carries on past "not found", so the same plan
   * serves release, rollback of a half-made slot and crash cleanup. Callers verify the
   * names are gone instead of trusting the exit code.
   */
  readonly teardown: readonly PlanStep[];
}

/** Options for VM capsules: a TAP device inside the namespace, NAT'd to the slot's guest IP. */
export interface VmTapOptions {
  /** TAP name inside the netns. @default "tap0" */
  readonly tapName?: string;
}

/** Address the VM uses on its TAP link; the same in every slot, so one memory snapshot restores anywhere. */
export const VM_GUEST_IP = "169.254.0.21";
/** The namespace's end of the TAP link (the VM's gateway). */
export const VM_TAP_IP = "169.254.0.22";
/** The TX queue length the issue asks for on VM TAP devices. */
export const VM_TAP_TXQUEUELEN = 5000;

/**
 * PURE: the commands that create slot `slot` (netns, veth pair with `eth0` inside, /30
 * addresses, default route, per-veth forwarding, no IPv6 on the host end) and remove it.
 * With `vm`, the namespace also gets a TAP device and a tiny NAT so the host reaches the VM
 * at the slot's guest IP.
 */
export function planSlot(slot: number, config: NetConfig, vm?: VmTapOptions): SlotPlan {
  const l = slotLayout(slot, config);
  const setup: PlanStep[] = [
    {
      argv: ["ip", "-batch", "-"],
      stdin: lines(
        `netns add ${l.netns}`,
        `link add ${l.hostInterface} type veth peer name ${l.guestInterface} netns ${l.netns}`,
        `addr add ${l.hostIp}/30 dev ${l.hostInterface}`,
        `link set ${l.hostInterface} up`,
      ),
    },
    // Forwarding per veth only: the global ip_forward stays off, so no other interface starts
    // routing. Strict reverse-path filtering drops packets whose source is not the slot's own
    // /30 (a capsule spoofing a neighbour's address). IPv6 is off on the host end so a capsule
    // has no link-local path to the host.
    {
      argv: [
        "sysctl",
        "-q",
        "-w",
        `net.ipv4.conf.${l.hostInterface}.forwarding=1`,
        `net.ipv4.conf.${l.hostInterface}.rp_filter=1`,
        `net.ipv6.conf.${l.hostInterface}.disable_ipv6=1`,
      ],
    },
    {
      argv: ["ip", "-n", l.netns, "-batch", "-"],
      stdin: lines(
        "link set lo up",
        `addr add ${l.guestIp}/30 dev ${l.guestInterface}`,
        `link set ${l.guestInterface} up`,
        `route add default via ${l.hostIp}`,
        ...(vm ? tapLinkCommands(vm.tapName ?? "tap0") : []),
      ),
    },
  ];
  if (vm) setup.push(...vmNatSteps(l));
  return {
    layout: l,
    setup,
    // Deleting the host end removes the pair even when a leftover process still pins the
    // namespace; `netns del` then drops the name. The TAP dies with the namespace.
    teardown: [
      { argv: ["ip", "-force", "-batch", "-"], stdin: lines(`link del ${l.hostInterface}`, `netns del ${l.netns}`) },
    ],
  };
}

/**
 * PURE: the commands start() runs once: forwarding on each uplink so that replies to
 * capsule egress are routed back (measured: without it, egress connections time out).
 */
export function planUplinks(config: NetConfig): PlanStep[] {
  const ifs = config.uplinkInterfaces ?? [];
  if (ifs.length === 0) return [];
  return [{ argv: ["sysctl", "-q", "-w", ...ifs.map((i) => `net.ipv4.conf.${i}.forwarding=1`)] }];
}

function tapLinkCommands(tap: string): string[] {
  return [
    `tuntap add dev ${tap} mode tap`,
    `link set ${tap} txqueuelen ${VM_TAP_TXQUEUELEN}`,
    `addr add ${VM_TAP_IP}/30 dev ${tap}`,
    `link set ${tap} up`,
  ];
}

function vmNatSteps(l: SlotLayout): PlanStep[] {
  return [
    // Inside the namespace only: it must route between eth0 and the TAP.
    { argv: ["ip", "netns", "exec", l.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"] },
    {
      argv: ["ip", "netns", "exec", l.netns, "nft", "-f", "-"],
      stdin: lines(
        "table ip vm {",
        "  chain pre {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        `    iifname "${l.guestInterface}" ip daddr ${l.guestIp} dnat to ${VM_GUEST_IP}`,
        "  }",
        "  chain post {",
        "    type nat hook postrouting priority srcnat; policy accept;",
        `    oifname "${l.guestInterface}" ip saddr ${VM_GUEST_IP} masquerade`,
        "  }",
        "}",
      ),
    },
  ];
}

function lines(...l: string[]): string {
  return `${l.join("\n")}\n`;
}
