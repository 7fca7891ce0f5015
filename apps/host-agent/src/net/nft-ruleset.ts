import type { NetConfig } from "./net-config.js";

/**
 * PURE: the whole `table inet <prefix>` as text for `nft -f -`. The first two lines make
 * the load an atomic replace (create-if-missing, delete, define), so re-applying at start
 * never leaves a window without rules. Per-capsule state is only the `egress` set of host
 * veth names; toggling egress is a set-element change, not a ruleset reload.
 *
 * Rule order matters: isolation drops come before anything that could accept.
 */
export function renderRuleset(config: NetConfig, egressInterfaces: readonly string[] = []): string {
  const t = config.prefix;
  const slots = `"${t}h*"`;
  const allow = config.egressAllowList;
  const out = [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    "  set egress {",
    "    type ifname",
    ...(egressInterfaces.length > 0 ? [`    elements = { ${egressInterfaces.map((i) => `"${i}"`).join(", ")} }`] : []),
    "  }",
    "  set blocked {",
    "    type ipv4_addr",
    "    flags interval",
    ...(config.blockedDestinations.length > 0 ? [`    elements = { ${config.blockedDestinations.join(", ")} }`] : []),
    "  }",
    // Traffic addressed to the host itself (any of its addresses, including the slot's own
    // gateway): only replies to connections the host opened may come back.
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname ${slots} ct state established,related accept`,
    `    iifname ${slots} drop`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    `    iifname ${slots} oifname ${slots} drop`,
    `    oifname ${slots} ct state established,related accept`,
    `    oifname ${slots} drop`,
    `    iifname ${slots} meta nfproto ipv6 drop`,
    `    iifname ${slots} iifname != @egress drop`,
    `    iifname ${slots} ip daddr @blocked drop`,
    ...(allow ? [`    iifname ${slots} ip daddr != { ${allow.join(", ")} } drop`] : []),
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${config.subnet} oifname != ${slots} masquerade`,
    "  }",
    "}",
  ];
  return `${out.join("\n")}\n`;
}

/** PURE: the `nft -f -` text that lets `hostInterface` egress or stops it. */
export function renderEgressChange(config: NetConfig, hostInterface: string, allowed: boolean): string {
  return `${allowed ? "add" : "delete"} element inet ${config.prefix} egress { "${hostInterface}" }\n`;
}

/** PURE: removes this prefix's table (used when the provider is disposed). */
export function renderTableRemoval(config: NetConfig): string {
  return `table inet ${config.prefix}\ndelete table inet ${config.prefix}\n`;
}
