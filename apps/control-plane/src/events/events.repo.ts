/**
 * The events outbox (`events`), replacing the reference's Redis stream:
 * platform events (capsule.created, host.down, …) are inserted — in the same
 * transaction as the change they describe, when the caller passes one — and
 * announced with NOTIFY on `EVENTS_CHANNEL`. Dispatchers claim pending
 * events with FOR UPDATE SKIP LOCKED under a lease: several control-plane
 * replicas share the work, each event goes to one of them, and an event
 * claimed by a dispatcher that died becomes claimable again when its lease ends.
 */
import type { Queryable } from "../db/database.js";
import { json, onlyRow } from "../db/sql.js";

/** NOTIFY channel announcing new events; the payload is the event id. Consumers LISTEN and also poll. */
export const EVENTS_CHANNEL = "wrenn_events";

/** An event to publish. */
export interface NewEvent {
  readonly teamId: string;
  /** e.g. "capsule.created" */
  readonly type: string;
  /** The wire payload channels deliver ({event, timestamp, team_id, actor, resource}). */
  readonly payload: Record<string, unknown>;
}

/** A claimed event. */
export interface OutboxEvent {
  readonly id: number;
  readonly teamId: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
  /** Claims so far, this one included. */
  readonly attempts: number;
}

const COLUMNS = `id, team_id AS "teamId", type, payload, created_at AS "createdAt", attempts`;

/** Repository of `events`. Pass the database or a transaction. */
export function createEventsRepo(db: Queryable) {
  return {
    /** Inserts an event and NOTIFYs `EVENTS_CHANNEL` (on commit, when `db` is a transaction). Returns its id. */
    async publish(event: NewEvent): Promise<number> {
      const result = await db.query<{ id: number }>(
        "INSERT INTO events (team_id, type, payload) VALUES ($1, $2, $3::jsonb) RETURNING id",
        [event.teamId, event.type, json(event.payload)],
      );
      const { id } = onlyRow(result);
      await db.notify(EVENTS_CHANNEL, String(id));
      return id;
    },

    /**
     * Claims up to `limit` due events, oldest first, for `leaseSeconds`:
     * nobody else can claim them until the lease ends or they are settled with
     * `markDelivered` / `retryLater` / `markFailed`. Locked rows are skipped,
     * not waited for.
     */
    async claim(options: { limit: number; leaseSeconds: number }): Promise<OutboxEvent[]> {
      const result = await db.query<OutboxEvent>(
        `WITH due AS MATERIALIZED (
           SELECT id FROM events
           WHERE status = 'pending' AND available_at <= now() AND (locked_until IS NULL OR locked_until <= now())
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         UPDATE events e SET locked_until = now() + make_interval(secs => $2), attempts = e.attempts + 1
         FROM due WHERE e.id = due.id
         RETURNING e.id, e.team_id AS "teamId", e.type, e.payload, e.created_at AS "createdAt", e.attempts`,
        [options.limit, options.leaseSeconds],
      );
      return result.rows.sort((a, b) => a.id - b.id);
    },

    /** Settles an event as delivered. */
    async markDelivered(id: number): Promise<boolean> {
      const result = await db.query(
        `UPDATE events SET status = 'delivered', finished_at = now(), locked_until = NULL
         WHERE id = $1 AND status = 'pending'`,
        [id],
      );
      return result.rowCount === 1;
    },

    /** Releases an event for another attempt after `delaySeconds`, recording why this one failed. */
    async retryLater(id: number, delaySeconds: number, error: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE events SET available_at = now() + make_interval(secs => $2), locked_until = NULL, last_error = $3
         WHERE id = $1 AND status = 'pending'`,
        [id, delaySeconds, error],
      );
      return result.rowCount === 1;
    },

    /** Gives up on an event. */
    async markFailed(id: number, error: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE events SET status = 'failed', finished_at = now(), locked_until = NULL, last_error = $2
         WHERE id = $1 AND status = 'pending'`,
        [id, error],
      );
      return result.rowCount === 1;
    },

    /** Deletes settled events older than `retentionDays`; returns how many. @default retentionDays 7 */
    async pruneFinished(retentionDays = 7): Promise<number> {
      const result = await db.query(
        "DELETE FROM events WHERE status <> 'pending' AND finished_at < now() - make_interval(days => $1)",
        [retentionDays],
      );
      return result.rowCount;
    },

    /** One event with its delivery state (tests, diagnostics). */
    async getById(id: number): Promise<(OutboxEvent & { status: string; lastError: string }) | undefined> {
      const result = await db.query<OutboxEvent & { status: string; lastError: string }>(
        `SELECT ${COLUMNS}, status, last_error AS "lastError" FROM events WHERE id = $1`,
        [id],
      );
      return result.rows[0];
    },
  };
}

/** What `createEventsRepo` returns. */
export type EventsRepo = ReturnType<typeof createEventsRepo>;
