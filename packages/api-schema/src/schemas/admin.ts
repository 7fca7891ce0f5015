/** Platform administration: teams, users, templates of every team (inventory §2.2 "Platform admin"). */
import Type, { type Static } from "typebox";
import { TeamId, UserId } from "../primitives/ids.js";
import { DateTime, Email, SafeName, TemplateName } from "../primitives/strings.js";
import { TemplateType } from "./snapshots.js";

/** `?page=` of the admin lists (100 entries a page). */
export const PageQuery = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })) });

const pageFields = {
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  per_page: Type.Integer({ minimum: 1, examples: [100] }),
  total_pages: Type.Integer({ minimum: 0 }),
};

/** A team as platform admins see it. `deleted_at` is null for live teams. */
export const AdminTeam = Type.Object({
  id: TeamId,
  name: Type.String(),
  slug: Type.String({ examples: ["a1b2c3-d4e5f6"] }),
  is_byoc: Type.Boolean(),
  created_at: DateTime,
  deleted_at: Type.Union([DateTime, Type.Null()]),
  member_count: Type.Integer({ minimum: 0 }),
  owner_name: Type.String(),
  owner_email: Type.String(),
  active_sandbox_count: Type.Integer({ minimum: 0 }),
  channel_count: Type.Integer({ minimum: 0 }),
});

/** `GET /v1/admin/teams`. */
export const AdminTeamPage = Type.Object({ teams: Type.Array(AdminTeam), ...pageFields });

/** `PUT /v1/admin/teams/{id}/byoc`: BYOC can be enabled, never disabled. */
export const SetTeamByocRequest = Type.Object({ enabled: Type.Boolean() });

/** Account statuses: `inactive` until the email link is followed. */
export const UserStatus = Type.Union([
  Type.Literal("inactive"),
  Type.Literal("active"),
  Type.Literal("disabled"),
  Type.Literal("deleted"),
]);

/** A user as platform admins see it. */
export const AdminUser = Type.Object({
  id: UserId,
  email: Email,
  name: Type.String(),
  is_admin: Type.Boolean(),
  status: UserStatus,
  created_at: DateTime,
  teams_joined: Type.Integer({ minimum: 0 }),
  teams_owned: Type.Integer({ minimum: 0 }),
});

/** `GET /v1/admin/users`. */
export const AdminUserPage = Type.Object({ users: Type.Array(AdminUser), ...pageFields });

/** `{id}` of the admin user routes. */
export const AdminUserParams = Type.Object({ id: UserId });

/** `PUT /v1/admin/users/{id}/active`: disabling deletes the user's API keys and stops their teams' capsules. */
export const SetUserActiveRequest = Type.Object({ active: Type.Boolean() });

/** `PUT /v1/admin/users/{id}/admin`: the last admin cannot be demoted. */
export const SetUserAdminRequest = Type.Object({ admin: Type.Boolean() });

/** A template of any team, for `GET /v1/admin/templates`. */
export const AdminTemplate = Type.Object({
  name: TemplateName,
  type: TemplateType,
  vcpus: Type.Integer({ minimum: 1 }),
  memory_mb: Type.Integer({ minimum: 1 }),
  size_bytes: Type.Integer({ minimum: 0 }),
  team_id: TeamId,
  created_at: DateTime,
});

/** `POST /v1/admin/capsules/{id}/snapshot`: becomes a platform template, then the capsule is destroyed. */
export const AdminSnapshotRequest = Type.Object({ name: Type.Optional(SafeName) });

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link PageQuery}. */
export type PageQuery = Static<typeof PageQuery>;
/** A value matching {@link AdminTeam}. */
export type AdminTeam = Static<typeof AdminTeam>;
/** A value matching {@link AdminTeamPage}. */
export type AdminTeamPage = Static<typeof AdminTeamPage>;
/** A value matching {@link SetTeamByocRequest}. */
export type SetTeamByocRequest = Static<typeof SetTeamByocRequest>;
/** A value matching {@link UserStatus}. */
export type UserStatus = Static<typeof UserStatus>;
/** A value matching {@link AdminUser}. */
export type AdminUser = Static<typeof AdminUser>;
/** A value matching {@link AdminUserPage}. */
export type AdminUserPage = Static<typeof AdminUserPage>;
/** A value matching {@link AdminUserParams}. */
export type AdminUserParams = Static<typeof AdminUserParams>;
/** A value matching {@link SetUserActiveRequest}. */
export type SetUserActiveRequest = Static<typeof SetUserActiveRequest>;
/** A value matching {@link SetUserAdminRequest}. */
export type SetUserAdminRequest = Static<typeof SetUserAdminRequest>;
/** A value matching {@link AdminTemplate}. */
export type AdminTemplate = Static<typeof AdminTemplate>;
/** A value matching {@link AdminSnapshotRequest}. */
export type AdminSnapshotRequest = Static<typeof AdminSnapshotRequest>;
