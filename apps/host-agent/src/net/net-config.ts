import { PlatformError } from "@wrenn/kit";

/** How the host lays out capsule network slots. */
export interface NetConfig {
  /**
   * Name prefix of everything this agent creates: netns `<prefix>-<slot>`, host veth
   * `<prefix>h<slot>`, nft table `inet <prefix>`. Start-up cleanup removes exactly these
   * names, so a test run uses its own prefix and never touches the agent's.
   */
  readonly prefix: string;
  /** A private IPv4 /16 (e.g. "10.211.0.0/16") split into /30s: slot N uses base + 4N. */
  readonly subnet: string;
  /** First slot number handed out (lets two agents or a test share a /16 without overlap). */
  readonly firstSlot: number;
  /** How many slots may exist at once (≤ 16384 - firstSlot). */
  readonly slotCount: number;
  /** Slots created ahead of time so that acquire only flips state. */
  readonly poolSize: number;
  /** Destinations a capsule never reaches even with egress on (private ranges, metadata, the control plane). */
  readonly blockedDestinations: readonly string[];
  /**
   * If set, egress is limited to these ranges (tests: the simulated internet only). Unset in
   * production: everything except `blockedDestinations`.
   */
  readonly egressAllowList?: readonly string[];
  /**
   * Interfaces egress leaves by (e.g. the host's `eth0`). Forwarding is decided by the
   * interface a packet *arrives* on, so replies coming back to capsules need forwarding on
   * here too; start() turns it on (and leaves it on: other users may rely on it).
   */
  readonly uplinkInterfaces?: readonly string[];
}

/** Ranges no capsule may reach: RFC 1918, CGNAT, loopback, link-local (cloud metadata), multicast, reserved. */
export const DEFAULT_BLOCKED_DESTINATIONS: readonly string[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

/** Production defaults; `prefix` "wrn", subnet 10.211.0.0/16 as measured in the namespace study. */
export const DEFAULT_NET_CONFIG: NetConfig = {
  prefix: "wrn",
  subnet: "10.211.0.0/16",
  firstSlot: 1,
  slotCount: 4000,
  poolSize: 16,
  blockedDestinations: DEFAULT_BLOCKED_DESTINATIONS,
};

/** The names and addresses of one slot, derived from its number alone. */
export interface SlotLayout {
  readonly slot: number;
  readonly netns: string;
  readonly netnsPath: string;
  readonly hostInterface: string;
  /** Always `eth0`: every capsule sees the same interface name. */
  readonly guestInterface: "eth0";
  readonly hostIp: string;
  readonly guestIp: string;
  /** The /30 the pair lives in, e.g. "10.211.0.4/30". */
  readonly cidr: string;
}

// Interface names are limited to 15 bytes (IFNAMSIZ - 1): prefix + "h" + up to 5 digits.
const PREFIX_RE = /^[a-z][a-z0-9]{0,8}$/;
const SUBNET_RE = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/;
const SLOTS_PER_16 = 16384;

/** Throws invalid_argument unless `config` is usable; returns the /16's first two octets. */
export function validateNetConfig(config: NetConfig): readonly [number, number] {
  const bad = (what: string) => new PlatformError("invalid_argument", "bad_net_config", `network config: ${what}`);
  if (!PREFIX_RE.test(config.prefix)) throw bad(`prefix must match ${PREFIX_RE.source}`);
  const m = SUBNET_RE.exec(config.subnet);
  const a = Number(m?.[1]);
  const b = Number(m?.[2]);
  if (!m || a > 255 || b > 255) throw bad("subnet must be an IPv4 /16 like 10.211.0.0/16");
  if (!Number.isInteger(config.firstSlot) || config.firstSlot < 0) throw bad("firstSlot must be an integer ≥ 0");
  if (!Number.isInteger(config.slotCount) || config.slotCount < 1) throw bad("slotCount must be ≥ 1");
  if (config.firstSlot + config.slotCount > SLOTS_PER_16) throw bad(`firstSlot + slotCount must be ≤ ${SLOTS_PER_16}`);
  if (!Number.isInteger(config.poolSize) || config.poolSize < 0) throw bad("poolSize must be ≥ 0");
  return [a, b];
}

/** Names and addresses of slot `slot` under `config` (pure). */
export function slotLayout(slot: number, config: NetConfig): SlotLayout {
  const [a, b] = validateNetConfig(config);
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS_PER_16) {
    throw new PlatformError("invalid_argument", "bad_slot", `slot ${slot} is outside the /16`);
  }
  const base = slot * 4;
  const c = Math.floor(base / 256);
  const d = base % 256;
  const netns = `${config.prefix}-${slot}`;
  return {
    slot,
    netns,
    netnsPath: `/run/netns/${netns}`,
    hostInterface: `${config.prefix}h${slot}`,
    guestInterface: "eth0",
    hostIp: `${a}.${b}.${c}.${d + 1}`,
    guestIp: `${a}.${b}.${c}.${d + 2}`,
    cidr: `${a}.${b}.${c}.${d}/30`,
  };
}

/** Regexes that recognise this prefix's netns and host-link names (for leftover cleanup). */
export function ownedNamePatterns(prefix: string): { readonly netns: RegExp; readonly link: RegExp } {
  return { netns: new RegExp(`^${prefix}-\\d+$`), link: new RegExp(`^${prefix}h\\d+$`) };
}
