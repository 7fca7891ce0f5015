/**
 * The host monitor (inventory §5.3): every 15 s, and once at start, each
 * registered host is checked — passively by the age of its last heartbeat,
 * actively (online hosts) by asking its agent which capsules it holds. The
 * decisions are in host-reconcile.ts; this file applies them.
 *
 * Every status change is conditional on the status it was decided from, so
 * a user's pause, resume or destroy racing with a pass wins: the database
 * rows are read before the agent is asked, and a row that moved on since is
 * left alone.
 */
import type { Logger } from "@wrenn/kit";
import type { AuditSink } from "../audit/audit-sink.js";
import { ACTIVE_CAPSULE_STATUSES, createCapsulesRepo } from "../capsules/capsules.repo.js";
import type { Queryable } from "../db/database.js";
import { PLATFORM_TEAM_ID, parsePublicId, toPublicId } from "../ids/public-id.js";
import { isAgentNotFound } from "./agent-errors.js";
import type { HostAgentClient } from "./host-client-pool.js";
import {
  type AgentReport,
  DEFAULT_STALE_AFTER_MS,
  heartbeatVerdict,
  isOrphan,
  planReconcile,
  type TrackedCapsule,
} from "./host-reconcile.js";
import { createHostsRepo, type Host } from "./hosts.repo.js";

/** Options of {@link HostMonitor}. */
export interface HostMonitorOptions {
  readonly db: Queryable;
  /** The agents' RPC clients (a `HostClientPool`). */
  readonly pool: { client(host: { readonly id: string; readonly address: string }): HostAgentClient };
  readonly audit: AuditSink;
  readonly log: Logger;
  /** Time between the end of one pass and the start of the next. @default 15 000 ms */
  readonly intervalMs?: number;
  /** Heartbeats older than this make a host unreachable. @default 90 000 ms */
  readonly staleAfterMs?: number;
  /** Deadline of each agent call (a hung agent must not stall the loop). @default 10 000 ms */
  readonly rpcTimeoutMs?: number;
  /** Hosts checked at the same time. @default 8 */
  readonly concurrency?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Called for each capsule that stopped being reachable (missing, paused, stopped): the proxy forgets it. */
  readonly onCapsuleUnreachable?: (publicId: string) => void;
}

/** Runs the checks on a timer until disposed; `runOnce` and `checkHost` run them on demand. */
export class HostMonitor implements AsyncDisposable {
  readonly #o: HostMonitorOptions;
  readonly #hosts;
  readonly #capsules;
  readonly #locks = new Map<string, Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pass: Promise<void> | undefined;
  #started = false;
  #disposed = false;

  constructor(options: HostMonitorOptions) {
    this.#o = options;
    this.#hosts = createHostsRepo(options.db);
    this.#capsules = createCapsulesRepo(options.db);
  }

  /** Runs a pass now, then one every interval (each after the previous ended). Idempotent. */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    this.#arm(0);
  }

  /** One pass over every registered host. Never rejects: failures are logged. */
  async runOnce(): Promise<void> {
    let hosts: Host[];
    try {
      hosts = await this.#hosts.listActive();
    } catch (err) {
      this.#o.log.error({ err }, "host monitor: cannot list hosts");
      return;
    }
    const queue = [...hosts];
    const worker = async () => {
      for (let host = queue.shift(); host !== undefined; host = queue.shift()) await this.#checkLocked(host);
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 8, queue.length) }, worker));
  }

  /** Checks one host now (e.g. right after its heartbeat brought it back). Never rejects. */
  async checkHost(hostId: string): Promise<void> {
    if (this.#disposed) return;
    const host = await this.#hosts.getById(hostId).catch((err: unknown) => {
      this.#o.log.error({ err }, "host monitor: cannot read host");
      return undefined;
    });
    if (host !== undefined && host.status !== "pending") await this.#checkLocked(host);
  }

  /** Stops the timer and waits for checks in flight. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#pass;
    await Promise.all(this.#locks.values());
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#pass = this.runOnce().finally(() => {
        this.#pass = undefined;
        if (!this.#disposed) this.#arm(this.#o.intervalMs ?? 15_000);
      });
    }, delayMs);
    // The HTTP server keeps the process alive; the monitor alone must not.
    this.#timer.unref();
  }

  /** Checks of one host never overlap (a timer pass and a heartbeat's check could). */
  #checkLocked(host: Host): Promise<void> {
    const previous = this.#locks.get(host.id) ?? Promise.resolve();
    const next = previous.then(() =>
      this.#check(host).catch((err: unknown) =>
        this.#o.log.error({ err, hostId: toPublicId("host", host.id) }, "host monitor: check failed"),
      ),
    );
    this.#locks.set(host.id, next);
    void next.finally(() => {
      if (this.#locks.get(host.id) === next) this.#locks.delete(host.id);
    });
    return next;
  }

  async #check(listed: Host): Promise<void> {
    // Re-read: a heartbeat may have arrived since the host list was taken.
    const host = (await this.#hosts.getById(listed.id)) ?? listed;
    const now = (this.#o.now ?? Date.now)();
    const verdict = heartbeatVerdict(host, now, this.#o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
    if (verdict === "stale") return this.#markDown(host);
    if (verdict === "fresh" && host.status === "online" && host.address !== "") await this.#reconcile(host);
  }

  async #markDown(host: Host): Promise<void> {
    if (!(await this.#hosts.markUnreachable(host.id))) return;
    const missing = await this.#capsules.markMissingByHost(host.id);
    const hostId = toPublicId("host", host.id);
    this.#o.audit.record({
      // Platform hosts are logged under the platform team (the reference skipped them: B.11).
      teamId: host.teamId ?? PLATFORM_TEAM_ID,
      actor: { type: "system" },
      resourceType: "host",
      resourceId: hostId,
      action: "marked_down",
      status: "error",
      metadata: { missing_sandboxes: missing.length },
    });
    for (const id of missing) this.#o.onCapsuleUnreachable?.(toPublicId("capsule", id));
    this.#o.log.warn({ hostId, missingCapsules: missing.length }, "host unreachable: no heartbeat");
  }

  async #reconcile(host: Host): Promise<void> {
    const hostId = toPublicId("host", host.id);
    // Rows first, then the agent: a capsule that became running after this read is not judged.
    const rows: TrackedCapsule[] = (await this.#capsules.listByHostAndStatus(host.id, ACTIVE_CAPSULE_STATUSES)).map(
      (c) => ({ id: c.id, publicId: toPublicId("capsule", c.id), teamId: c.teamId, status: c.status }),
    );
    const client = this.#o.pool.client({ id: host.id, address: host.address });
    let report: AgentReport;
    try {
      const res = await client.listSandboxes({}, { signal: AbortSignal.timeout(this.#o.rpcTimeoutMs ?? 10_000) });
      report = {
        sandboxes: new Map(res.sandboxes.map((s) => [s.sandboxId, s.status])),
        autoPaused: new Set(res.autoPausedSandboxIds),
      };
    } catch (err) {
      // Transient (a restart, a blip): the heartbeat timeout is what declares a host down.
      this.#o.log.debug({ err, hostId }, "host monitor: ListSandboxes failed");
      return;
    }
    const plan = planReconcile(rows, report);
    const back = plan.transitions.filter((t) => t.to === "running" && t.capsule.status === "missing");
    if (back.length > 0) await this.#capsules.restoreRunning(back.map((t) => t.capsule.id));
    for (const t of plan.transitions) {
      if (t.to === "running") continue;
      if (!(await this.#capsules.transition(t.capsule.id, [t.capsule.status], t.to))) continue;
      this.#o.onCapsuleUnreachable?.(t.capsule.publicId);
      if (t.to === "paused") {
        this.#o.audit.record({
          teamId: t.capsule.teamId,
          actor: { type: "system" },
          resourceType: "sandbox",
          resourceId: t.capsule.publicId,
          action: "pause",
          status: "info",
        });
      }
    }
    if (plan.transitions.length > 0) {
      const count = (to: string) => plan.transitions.filter((t) => t.to === to).length;
      this.#o.log.info(
        { hostId, running: count("running"), paused: count("paused"), stopped: count("stopped") },
        "host monitor: capsules reconciled with the agent",
      );
    }
    for (const publicId of plan.untracked) await this.#destroyIfOrphan(host, client, publicId);
  }

  async #destroyIfOrphan(host: Host, client: HostAgentClient, publicId: string): Promise<void> {
    const parsed = parsePublicId("capsule", publicId);
    const row = parsed.ok ? await this.#capsules.getById(parsed.uuid) : undefined;
    if (!isOrphan(row, host.id)) {
      this.#o.log.debug(
        { sandboxId: publicId },
        "host monitor: agent holds a capsule this control plane does not track",
      );
      return;
    }
    try {
      await client.destroySandbox(
        { sandboxId: publicId },
        { signal: AbortSignal.timeout(this.#o.rpcTimeoutMs ?? 10_000) },
      );
      this.#o.log.warn({ sandboxId: publicId }, "host monitor: destroyed an orphan capsule");
    } catch (err) {
      if (!isAgentNotFound(err)) this.#o.log.warn({ err, sandboxId: publicId }, "host monitor: orphan destroy failed");
    }
  }
}
