/**
 * Templates (`templates`): base images and snapshots, owned by a team or by
 * the platform team (global templates every team sees). Names are unique per
 * team, and a trigger keeps team templates off global names.
 */
import type { Queryable } from "../db/database.js";
import { PLATFORM_TEAM_ID } from "../db/seeds.js";
import { firstRow, json, onlyRow } from "../db/sql.js";

/** base: a root filesystem only; snapshot: a paused VM (memory + disk) capsules resume from. */
export type TemplateType = "base" | "snapshot";

/** A row of `templates`. */
export interface Template {
  readonly id: string;
  readonly name: string;
  readonly type: TemplateType;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly sizeBytes: number;
  readonly createdAt: Date;
  /** Owning team; `PLATFORM_TEAM_ID` for global templates. */
  readonly teamId: string;
  /** User processes run as in capsules made from it. */
  readonly defaultUser: string;
  readonly defaultEnv: Record<string, string>;
  readonly metadata: Record<string, string>;
}

/** Fields of a new template. */
export interface NewTemplate {
  /** @default a random UUID (builds pre-allocate it) */
  readonly id?: string;
  readonly teamId: string;
  readonly name: string;
  readonly type: TemplateType;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly sizeBytes: number;
  /** @default 'root' */
  readonly defaultUser?: string;
  /** @default {} */
  readonly defaultEnv?: Record<string, string>;
  /** @default {} */
  readonly metadata?: Record<string, string>;
}

/** Constraint a team template breaks when it takes its own team's existing name. */
export const TEMPLATE_NAME_TAKEN_CONSTRAINT = "templates_team_id_name_key";
/** Constraint (raised by a trigger) a team template breaks when it takes a global template's name. */
export const TEMPLATE_NAME_RESERVED_CONSTRAINT = "templates_reserved_global_name";

const COLUMNS = `id, name, type, vcpus, memory_mb AS "memoryMb", size_bytes AS "sizeBytes", created_at AS "createdAt",
  team_id AS "teamId", default_user AS "defaultUser", default_env AS "defaultEnv", metadata`;

/** Repository of `templates`. Pass the database or a transaction. */
export function createTemplatesRepo(db: Queryable) {
  return {
    /**
     * Inserts a template. Throws a unique violation whose constraint is
     * `TEMPLATE_NAME_TAKEN_CONSTRAINT` (the team has that name) or
     * `TEMPLATE_NAME_RESERVED_CONSTRAINT` (a global template has it).
     */
    async insert(template: NewTemplate): Promise<Template> {
      const result = await db.query<Template>(
        `INSERT INTO templates (id, team_id, name, type, vcpus, memory_mb, size_bytes, default_user, default_env, metadata)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb)
         RETURNING ${COLUMNS}`,
        [
          template.id ?? null,
          template.teamId,
          template.name,
          template.type,
          template.vcpus,
          template.memoryMb,
          template.sizeBytes,
          template.defaultUser ?? "root",
          json(template.defaultEnv ?? {}),
          json(template.metadata ?? {}),
        ],
      );
      return onlyRow(result);
    },

    async getById(id: string): Promise<Template | undefined> {
      return firstRow(await db.query<Template>(`SELECT ${COLUMNS} FROM templates WHERE id = $1`, [id]));
    },

    /**
     * What `name` means for `teamId`: the team's own template, else the
     * global one. (A global template created after a team took the name would
     * otherwise make the lookup ambiguous; the team's own wins.)
     */
    async getForTeam(teamId: string, name: string): Promise<Template | undefined> {
      return firstRow(
        await db.query<Template>(
          `SELECT ${COLUMNS} FROM templates WHERE name = $1 AND team_id IN ($2, $3)
           ORDER BY (team_id = $2) DESC LIMIT 1`,
          [name, teamId, PLATFORM_TEAM_ID],
        ),
      );
    },

    /** The global template called `name`. */
    async getPlatformByName(name: string): Promise<Template | undefined> {
      return firstRow(
        await db.query<Template>(`SELECT ${COLUMNS} FROM templates WHERE team_id = $1 AND name = $2`, [
          PLATFORM_TEAM_ID,
          name,
        ]),
      );
    },

    /** The team's templates and the global ones, optionally of one type, newest first. */
    async listForTeam(teamId: string, type?: TemplateType): Promise<Template[]> {
      const result = await db.query<Template>(
        `SELECT ${COLUMNS} FROM templates WHERE team_id IN ($1, $2) AND ($3::text IS NULL OR type = $3)
         ORDER BY created_at DESC, name`,
        [teamId, PLATFORM_TEAM_ID, type ?? null],
      );
      return result.rows;
    },

    /** Only the team's own templates, newest first. */
    async listTeamOnly(teamId: string): Promise<Template[]> {
      const result = await db.query<Template>(
        `SELECT ${COLUMNS} FROM templates WHERE team_id = $1 ORDER BY created_at DESC, name`,
        [teamId],
      );
      return result.rows;
    },

    /** Every template of every team (platform admins), by team then name. */
    async listAll(): Promise<Template[]> {
      const result = await db.query<Template>(`SELECT ${COLUMNS} FROM templates ORDER BY team_id, name`);
      return result.rows;
    },

    /** Deletes the team's template called `name` and returns it (so its files can be removed from hosts). */
    async deleteForTeam(teamId: string, name: string): Promise<Template | undefined> {
      const result = await db.query<Template>(
        `DELETE FROM templates WHERE team_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
        [teamId, name],
      );
      return firstRow(result);
    },

    /** Deletes every template of a team (team deleted) and returns them. */
    async deleteByTeam(teamId: string): Promise<Template[]> {
      const result = await db.query<Template>(`DELETE FROM templates WHERE team_id = $1 RETURNING ${COLUMNS}`, [
        teamId,
      ]);
      return result.rows;
    },
  };
}

/** What `createTemplatesRepo` returns. */
export type TemplatesRepo = ReturnType<typeof createTemplatesRepo>;
