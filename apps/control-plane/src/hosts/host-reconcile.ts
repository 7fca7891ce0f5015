/**
 * PURE: the host monitor's decisions (inventory §5.3), kept apart from the
 * database and RPCs so every rule is pinned by a table of cases.
 *
 * Passive check: a host whose last heartbeat is older than the stale limit
 * (or that never sent one) is marked unreachable and its capsules missing.
 *
 * Active check, for online hosts: what the agent reports decides each
 * running or missing capsule —
 *   agent says running                 → running (missing ones come back)
 *   agent says paused, or auto-paused  → paused  (the TTL reaper, or the
 *                                        agent's pause-all while the control
 *                                        plane was away: Appendix B.5)
 *   agent says creating                → left alone (cannot happen for a
 *                                        row past pending; never guess)
 *   agent does not have it (or stopping/gone) → stopped
 * Capsules the agent holds that the database does not track as active are
 * "untracked": the monitor looks them up and destroys the ones
 * recorded as stopped or failed (orphans left by a destroy while the host
 * was unreachable).
 */
import type { CapsuleStatus } from "../capsules/capsules.repo.js";
import type { HostStatus } from "./hosts.repo.js";

/** Heartbeats older than this make a host unreachable. */
export const DEFAULT_STALE_AFTER_MS = 90_000;

/** What the passive check makes of a host's last heartbeat. */
export type HeartbeatVerdict =
  /** Heard from recently enough. */
  | "fresh"
  /** Silent too long and not yet marked: mark it unreachable now. */
  | "stale"
  /** Silent too long and already unreachable: nothing to do until it beats again. */
  | "already_down";

/** The passive check for one host. A host that never sent a heartbeat counts as silent. */
export function heartbeatVerdict(
  host: { readonly status: HostStatus; readonly lastHeartbeatAt: Date | null },
  nowMs: number,
  staleAfterMs: number,
): HeartbeatVerdict {
  const last = host.lastHeartbeatAt?.getTime();
  if (last !== undefined && nowMs - last <= staleAfterMs) return "fresh";
  return host.status === "unreachable" ? "already_down" : "stale";
}

/**
 * A capsule row of the host in an active status (pending, running, paused,
 * missing). Only running and missing ones are decided; the others are
 * listed so the agent's copies of them do not count as untracked.
 */
export interface TrackedCapsule {
  /** Database UUID. */
  readonly id: string;
  /** `cl-…`: how the agent knows it. */
  readonly publicId: string;
  readonly teamId: string;
  readonly status: CapsuleStatus;
}

/** What `ListSandboxes` said. */
export interface AgentReport {
  /** Public capsule id → the agent's status (`creating`, `running`, `paused`, `stopping`, `gone`). */
  readonly sandboxes: ReadonlyMap<string, string>;
  /** Capsules the agent paused on its own since the last report (drained by the agent on read). */
  readonly autoPaused: ReadonlySet<string>;
}

/** One status change the active check wants. */
export interface CapsuleTransition {
  readonly capsule: TrackedCapsule;
  readonly to: "running" | "paused" | "stopped";
}

/** The active check's plan for one host. */
export interface ReconcilePlan {
  readonly transitions: readonly CapsuleTransition[];
  /** Public ids the agent runs or holds paused that are not among the active rows. */
  readonly untracked: readonly string[];
}

/** Agent statuses that still hold a capsule (running or frozen). */
const HELD = new Set(["creating", "running", "paused"]);

/** Decides every tracked capsule of one host from the agent's report (see the module comment). */
export function planReconcile(rows: readonly TrackedCapsule[], report: AgentReport): ReconcilePlan {
  const transitions: CapsuleTransition[] = [];
  for (const capsule of rows) {
    if (capsule.status !== "running" && capsule.status !== "missing") continue;
    const agentStatus = report.sandboxes.get(capsule.publicId);
    let to: CapsuleTransition["to"] | undefined;
    if (agentStatus === "running") to = "running";
    else if (agentStatus === "creating") to = undefined;
    else if (agentStatus === "paused" || report.autoPaused.has(capsule.publicId)) to = "paused";
    else to = "stopped";
    if (to !== undefined && to !== capsule.status) transitions.push({ capsule, to });
  }
  const tracked = new Set(rows.map((r) => r.publicId));
  const untracked = [...report.sandboxes]
    .filter(([id, status]) => HELD.has(status) && !tracked.has(id))
    .map(([id]) => id);
  return { transitions, untracked };
}

/**
 * Whether an untracked capsule the agent holds should be destroyed: only
 * when its row says it is over (stopped, or failed to create) on this very
 * host. Unknown ids are left alone (not ours to judge), as are capsules
 * still pending (being created) or paused (the agent keeps them).
 */
export function isOrphan(
  row: { readonly hostId: string; readonly status: CapsuleStatus } | undefined,
  hostId: string,
): boolean {
  return row !== undefined && row.hostId === hostId && (row.status === "stopped" || row.status === "error");
}
