/** Teams, members and roles, and the user search of the add-member dialog (inventory §2.2, §5.14). */
import Type, { type Static } from "typebox";
import { TeamId, UserId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateTime, Email } from "../primitives/strings.js";

/** A member's role in a team; there is exactly one owner. */
export const TeamRole = Type.Union([Type.Literal("owner"), Type.Literal("admin"), Type.Literal("member")]);

/** A team's name: letters, digits, space, `_`, `-`, `@` and `'`. */
export const TeamName = Type.String({
  pattern: "^[A-Za-z0-9 _\\-@']{1,128}$",
  maxLength: LIMITS.teamName.max,
  examples: ["Alice's Team"],
});

/** A team. */
export const Team = Type.Object({
  id: TeamId,
  name: Type.String({ examples: ["Alice's Team"] }),
  slug: Type.String({ description: "Immutable slug `xxxxxx-yyyyyy`.", examples: ["a1b2c3-d4e5f6"] }),
  is_byoc: Type.Boolean({ description: "Whether the team runs capsules on its own (BYOC) hosts." }),
  created_at: DateTime,
});

/** A team of the current user, with the user's role in it. */
export const TeamWithRole = Type.Object({ ...Team.properties, role: TeamRole });

/** A member of a team. */
export const TeamMember = Type.Object({
  user_id: UserId,
  name: Type.String({ examples: ["Bob"] }),
  email: Email,
  role: TeamRole,
  joined_at: DateTime,
});

/** `GET /v1/teams/{id}`. */
export const TeamDetail = Type.Object({ team: Team, members: Type.Array(TeamMember) });

/** `POST /v1/teams` and `PATCH /v1/teams/{id}`. */
export const TeamNameRequest = Type.Object({ name: TeamName });

/** `{id}` of the team routes: must equal the team of the caller's JWT. */
export const TeamParams = Type.Object({ id: TeamId });

/** `{id}` and `{uid}` of the member routes. */
export const TeamMemberParams = Type.Object({ id: TeamId, uid: UserId });

/** `POST /v1/teams/{id}/members`: add an existing user as `member`. */
export const AddMemberRequest = Type.Object({ email: Email });

/** `PATCH /v1/teams/{id}/members/{uid}`: the owner's role cannot change. */
export const UpdateMemberRoleRequest = Type.Object({
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
});

/** `GET /v1/users/search`: an email prefix of at least 3 characters that contains `@`. */
export const UserSearchQuery = Type.Object({
  email: Type.String({ minLength: 3, maxLength: LIMITS.emailMaxLength, pattern: "@", examples: ["alice@"] }),
});

/** One match of the user search (at most 10 are returned). */
export const UserSearchResult = Type.Object({ user_id: UserId, email: Email });

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link TeamRole}. */
export type TeamRole = Static<typeof TeamRole>;
/** A value matching {@link TeamName}. */
export type TeamName = Static<typeof TeamName>;
/** A value matching {@link Team}. */
export type Team = Static<typeof Team>;
/** A value matching {@link TeamWithRole}. */
export type TeamWithRole = Static<typeof TeamWithRole>;
/** A value matching {@link TeamMember}. */
export type TeamMember = Static<typeof TeamMember>;
/** A value matching {@link TeamDetail}. */
export type TeamDetail = Static<typeof TeamDetail>;
/** A value matching {@link TeamNameRequest}. */
export type TeamNameRequest = Static<typeof TeamNameRequest>;
/** A value matching {@link TeamParams}. */
export type TeamParams = Static<typeof TeamParams>;
/** A value matching {@link TeamMemberParams}. */
export type TeamMemberParams = Static<typeof TeamMemberParams>;
/** A value matching {@link AddMemberRequest}. */
export type AddMemberRequest = Static<typeof AddMemberRequest>;
/** A value matching {@link UpdateMemberRoleRequest}. */
export type UpdateMemberRoleRequest = Static<typeof UpdateMemberRoleRequest>;
/** A value matching {@link UserSearchQuery}. */
export type UserSearchQuery = Static<typeof UserSearchQuery>;
/** A value matching {@link UserSearchResult}. */
export type UserSearchResult = Static<typeof UserSearchResult>;
