import type { Logger } from "@wrenn/kit";
import type { AuditRepo } from "./audit.repo.js";
import type { AuditEntry, AuditSink } from "./audit-sink.js";

/**
 * Writes audit entries to `audit_logs` without making the caller wait or fail
 * (the operation already happened; a lost audit row is logged loudly instead).
 * `flush()` awaits the writes in flight (shutdown, tests).
 */
export class DatabaseAuditSink implements AuditSink {
  readonly #repo: AuditRepo;
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();

  constructor(repo: AuditRepo, log: Logger) {
    this.#repo = repo;
    this.#log = log;
  }

  record(entry: AuditEntry): void {
    const write = this.#repo
      .insert({
        teamId: entry.teamId,
        actorType: entry.actor.type,
        actorId: entry.actor.id ?? null,
        actorName: entry.actor.name ?? "",
        resourceType: entry.resourceType,
        resourceId: entry.resourceId ?? null,
        action: entry.action,
        scope: entry.scope ?? "team",
        status: entry.status ?? "success",
        metadata: { ...entry.metadata },
      })
      .then(
        () => undefined,
        (err: unknown) =>
          this.#log.error({ err, action: entry.action, resourceType: entry.resourceType }, "audit entry lost"),
      );
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Resolves when every entry recorded so far is written (or logged as lost). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
