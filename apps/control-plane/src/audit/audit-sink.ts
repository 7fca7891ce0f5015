/** Who did something, as audit logs record it. */
export interface AuditActor {
  readonly type: "user" | "api_key" | "system";
  /** Public id (`usr-…`, `key-…`); absent for the system. */
  readonly id?: string;
  readonly name?: string;
}

/** One audit entry (inventory §5.12); channel events derive from some of them. */
export interface AuditEntry {
  readonly teamId: string;
  readonly actor: AuditActor;
  readonly resourceType: string;
  readonly resourceId?: string;
  readonly action: string;
  /** @default "team" */
  readonly scope?: "team" | "admin";
  /** @default "success" */
  readonly status?: "success" | "info" | "warning" | "error";
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Where services report what happened. Recording never fails the caller's
 * operation (the reference's fire-and-forget): implementations log their own
 * failures.
 */
export interface AuditSink {
  record(entry: AuditEntry): void;
}

/** An AuditSink that keeps entries in memory (tests, and before the database is wired). */
export class MemoryAuditSink implements AuditSink {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}
