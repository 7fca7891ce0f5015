import { isIPv6 } from "node:net";
import { type TcpSocketEntry, TcpState } from "./proc-net-tcp.js";

/** A localhost-only listener that should be exposed on the bind address. */
export interface ForwardTarget {
  readonly port: number;
  /** Which loopback the service listens on: 4 → 127.0.0.1, 6 → ::1. */
  readonly family: 4 | 6;
  /** Inode of the listening socket chosen for this port. */
  readonly inode: number;
}

/** Inputs of `planForwards`. */
export interface ForwardPlanInput {
  /** Rows of /proc/net/tcp and /proc/net/tcp6 (any state; only LISTEN rows are used). */
  readonly sockets: readonly TcpSocketEntry[];
  /** Address socat listens on. */
  readonly bindAddress: string;
  /** Socket inodes owned by envd itself: never forwarded. */
  readonly ownInodes: ReadonlySet<number>;
  /**
   * Ports on which our own socat listens (or is still shutting down): their
   * bind-address listeners are ours, not a conflict.
   */
  readonly ourPorts: ReadonlySet<number>;
  /** Extra filter; a port for which it returns false is never forwarded. */
  readonly include?: (port: number) => boolean;
}

/**
 * Decides which ports to forward, one target per port: two services cannot
 * both be exposed on one bind address and port, so when a port has both an
 * IPv4 and an IPv6 loopback listener the IPv4 one wins (lowest inode on a tie,
 * so the choice is stable between scans).
 *
 * Skipped: listeners not on 127.0.0.1 / ::1 (wildcard ones are reachable
 * already), envd's own sockets, and ports where the bind address or a
 * wildcard address already has a listener that is not our socat (binding
 * there would fail, or loop back into itself). Listeners on the bind address
 * are never candidates, which also keeps socat from forwarding itself when
 * the bind address is itself a loopback address.
 */
export function planForwards(input: ForwardPlanInput): Map<number, ForwardTarget> {
  const bind = unmapIpv4(input.bindAddress);
  const listeners = input.sockets.filter((s) => s.state === TcpState.Listen);
  const blocked = new Set<number>();
  for (const s of listeners) {
    const addr = unmapIpv4(s.localAddress);
    if ((addr === bind || isWildcard(addr)) && !input.ourPorts.has(s.localPort)) blocked.add(s.localPort);
  }
  const plan = new Map<number, ForwardTarget>();
  for (const s of listeners) {
    const addr = unmapIpv4(s.localAddress);
    if (!isForwardableLoopback(addr) || addr === bind) continue;
    if (input.ownInodes.has(s.inode) || blocked.has(s.localPort)) continue;
    if (input.include && !input.include(s.localPort)) continue;
    const target: ForwardTarget = { port: s.localPort, family: isIPv6(addr) ? 6 : 4, inode: s.inode };
    const prev = plan.get(s.localPort);
    if (!prev || target.family < prev.family || (target.family === prev.family && target.inode < prev.inode)) {
      plan.set(s.localPort, target);
    }
  }
  return plan;
}

/** True for the loopback addresses services bind when they mean "this machine only". */
export function isForwardableLoopback(address: string): boolean {
  const a = unmapIpv4(address);
  return a === "127.0.0.1" || a === "::1";
}

/** Ports that have a LISTEN socket on `address` (compared after IPv4-unmapping). */
export function portsListeningOn(sockets: readonly TcpSocketEntry[], address: string): Set<number> {
  const want = unmapIpv4(address);
  const ports = new Set<number>();
  for (const s of sockets)
    if (s.state === TcpState.Listen && unmapIpv4(s.localAddress) === want) ports.add(s.localPort);
  return ports;
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

/** `::ffff:a.b.c.d` → `a.b.c.d`, so an IPv4 service on a dual-stack socket is treated as IPv4. */
function unmapIpv4(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}
