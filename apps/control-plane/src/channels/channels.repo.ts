/**
 * Notification channels (`channels`): where a team's events are delivered
 * (Slack, Discord, webhooks…). `config` holds the provider settings with every
 * value encrypted by the service before it gets here; it is never returned by
 * the API, only read by the dispatcher.
 */
import type { Queryable } from "../db/database.js";
import { firstRow, json, onlyRow } from "../db/sql.js";

/** A row of `channels`. */
export interface Channel {
  readonly id: string;
  readonly teamId: string;
  /** Unique per team. */
  readonly name: string;
  readonly provider: string;
  /** field → base64(AES-256-GCM nonce ‖ ciphertext) */
  readonly config: Record<string, string>;
  /** Event types delivered, e.g. ["capsule.created", "host.down"]. */
  readonly eventTypes: string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Constraint a channel breaks when its team already has that name. */
export const CHANNEL_NAME_TAKEN_CONSTRAINT = "channels_team_id_name_key";

const COLUMNS = `id, team_id AS "teamId", name, provider, config, event_types AS "eventTypes", created_at AS "createdAt",
  updated_at AS "updatedAt"`;

/** Repository of `channels`. Pass the database or a transaction. */
export function createChannelsRepo(db: Queryable) {
  return {
    /** Creates a channel. Throws a unique violation on `CHANNEL_NAME_TAKEN_CONSTRAINT`. */
    async insert(channel: {
      teamId: string;
      name: string;
      provider: string;
      config: Record<string, string>;
      eventTypes: readonly string[];
    }): Promise<Channel> {
      const result = await db.query<Channel>(
        `INSERT INTO channels (team_id, name, provider, config, event_types) VALUES ($1, $2, $3, $4::jsonb, $5::text[])
         RETURNING ${COLUMNS}`,
        [channel.teamId, channel.name, channel.provider, json(channel.config), channel.eventTypes],
      );
      return onlyRow(result);
    },

    /** The team's channels, oldest first. */
    async listByTeam(teamId: string): Promise<Channel[]> {
      const result = await db.query<Channel>(
        `SELECT ${COLUMNS} FROM channels WHERE team_id = $1 ORDER BY created_at, id`,
        [teamId],
      );
      return result.rows;
    },

    /** The channel if it belongs to `teamId`. */
    async getForTeam(teamId: string, id: string): Promise<Channel | undefined> {
      return firstRow(
        await db.query<Channel>(`SELECT ${COLUMNS} FROM channels WHERE id = $1 AND team_id = $2`, [id, teamId]),
      );
    },

    /** Renames and re-subscribes a team's channel. Throws a unique violation on `CHANNEL_NAME_TAKEN_CONSTRAINT`. */
    async update(
      teamId: string,
      id: string,
      changes: { name: string; eventTypes: readonly string[] },
    ): Promise<Channel | undefined> {
      const result = await db.query<Channel>(
        `UPDATE channels SET name = $3, event_types = $4::text[], updated_at = now()
         WHERE id = $1 AND team_id = $2 RETURNING ${COLUMNS}`,
        [id, teamId, changes.name, changes.eventTypes],
      );
      return firstRow(result);
    },

    /** Replaces a team's channel's (encrypted) provider settings. */
    async updateConfig(teamId: string, id: string, config: Record<string, string>): Promise<boolean> {
      const result = await db.query(
        "UPDATE channels SET config = $3::jsonb, updated_at = now() WHERE id = $1 AND team_id = $2",
        [id, teamId, json(config)],
      );
      return result.rowCount === 1;
    },

    /** Deletes a team's channel. */
    async delete(teamId: string, id: string): Promise<boolean> {
      return (await db.query("DELETE FROM channels WHERE id = $1 AND team_id = $2", [id, teamId])).rowCount === 1;
    },

    /** The team's channels subscribed to `eventType` (the dispatcher's lookup). */
    async listForEvent(teamId: string, eventType: string): Promise<Channel[]> {
      const result = await db.query<Channel>(
        `SELECT ${COLUMNS} FROM channels WHERE team_id = $1 AND $2 = ANY(event_types) ORDER BY created_at, id`,
        [teamId, eventType],
      );
      return result.rows;
    },

    /** Deletes every channel of a team (team deleted); returns how many. */
    async deleteByTeam(teamId: string): Promise<number> {
      return (await db.query("DELETE FROM channels WHERE team_id = $1", [teamId])).rowCount;
    },
  };
}

/** What `createChannelsRepo` returns. */
export type ChannelsRepo = ReturnType<typeof createChannelsRepo>;
