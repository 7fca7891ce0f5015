import { type Logger, PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../exec/command-runner.js";
import { type NetConfig, ownedNamePatterns, type SlotLayout, slotLayout } from "./net-config.js";
import { renderEgressChange, renderRuleset, renderTableRemoval } from "./nft-ruleset.js";
import { type PlanStep, planSlot, planUplinks, type VmTapOptions } from "./plan.js";
import { PooledNetwork, type SlotBackend } from "./pooled-network.js";

/** Options for the real provider. */
export interface NetnsNetworkOptions {
  /** Give every slot a TAP device for a VM (runtime `qemu`/`firecracker`). */
  readonly vmTap?: VmTapOptions;
  readonly log?: Logger;
}

/**
 * The real NetworkProvider: one network namespace per capsule, a veth pair into it, and one
 * nftables table (`inet <prefix>`) for isolation, egress control and masquerade. Needs root
 * (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns add`), `ip`, `nft` and `sysctl`.
 */
export class NetnsNetwork extends PooledNetwork {
  constructor(config: NetConfig, runner: CommandRunner, options: NetnsNetworkOptions = {}) {
    super(config, new NetnsBackend(config, runner, options.vmTap), options.log);
  }
}

/** Lists the names this prefix owns on the host right now (for leftover checks and cleanup). */
export async function listOwnedNames(
  runner: CommandRunner,
  prefix: string,
  signal?: AbortSignal,
): Promise<{ netns: string[]; links: string[]; tables: string[] }> {
  const pat = ownedNamePatterns(prefix);
  const ns = await runChecked(runner, ["ip", "-json", "netns", "list"], { signal });
  const links = await runChecked(runner, ["ip", "-json", "link", "show"], { signal });
  const tables = await runChecked(runner, ["nft", "list", "tables"], { signal });
  return {
    // `ip -json netns list` prints nothing at all when there are no namespaces.
    netns: names(ns.stdout, "name").filter((n) => pat.netns.test(n)),
    links: names(links.stdout, "ifname").filter((n) => pat.link.test(n)),
    tables: tables.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l === `table inet ${prefix}`),
  };
}

function names(json: string, key: string): string[] {
  if (json.trim() === "") return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((e: unknown) => {
    const v = typeof e === "object" && e !== null ? (e as Record<string, unknown>)[key] : undefined;
    return typeof v === "string" ? [v] : [];
  });
}

class NetnsBackend implements SlotBackend {
  constructor(
    readonly config: NetConfig,
    readonly runner: CommandRunner,
    readonly vmTap: VmTapOptions | undefined,
  ) {}

  async installRules(signal?: AbortSignal): Promise<void> {
    await runChecked(this.runner, ["nft", "-f", "-"], { stdin: renderRuleset(this.config), signal });
    await this.#run(planUplinks(this.config), signal);
  }

  async create(layout: SlotLayout, signal?: AbortSignal): Promise<void> {
    await this.#run(planSlot(layout.slot, this.config, this.vmTap).setup, signal);
  }

  async destroy(layout: SlotLayout, signal?: AbortSignal): Promise<void> {
    let clean = true;
    for (const step of planSlot(layout.slot, this.config).teardown) {
      const r = await this.runner.run(step.argv, { stdin: step.stdin, signal });
      clean &&= r.exitCode === 0;
    }
    if (clean) return;
    // A failure may only mean "already gone" (rollback, crash cleanup); what counts is
    // that the names no longer exist.
    const left = await listOwnedNames(this.runner, this.config.prefix, signal);
    if (left.netns.includes(layout.netns) || left.links.includes(layout.hostInterface)) {
      throw new PlatformError("internal", "slot_teardown_failed", `network slot ${layout.slot} could not be removed`);
    }
  }

  async setEgress(layout: SlotLayout, allowed: boolean, signal?: AbortSignal): Promise<void> {
    const stdin = renderEgressChange(this.config, layout.hostInterface, allowed);
    await runChecked(this.runner, ["nft", "-f", "-"], { stdin, signal });
  }

  async removeLeftovers(keep: ReadonlySet<number>, signal?: AbortSignal): Promise<void> {
    const left = await listOwnedNames(this.runner, this.config.prefix, signal);
    const prefixLen = this.config.prefix.length + 1;
    const stale = new Set<number>();
    for (const n of left.netns) stale.add(Number(n.slice(prefixLen)));
    for (const l of left.links) stale.add(Number(l.slice(prefixLen)));
    for (const slot of stale) {
      if (Number.isInteger(slot) && slot < 16384 && !keep.has(slot))
        await this.destroy(slotLayout(slot, this.config), signal);
    }
    // The table goes only when nothing is kept: it is what isolates the slots still in use.
    if (keep.size === 0 && left.tables.length > 0) await this.removeRules(signal);
  }

  async removeRules(signal?: AbortSignal): Promise<void> {
    await runChecked(this.runner, ["nft", "-f", "-"], { stdin: renderTableRemoval(this.config), signal });
  }

  async #run(steps: readonly PlanStep[], signal?: AbortSignal): Promise<void> {
    for (const step of steps) await runChecked(this.runner, step.argv, { stdin: step.stdin, signal });
  }
}
