/**
 * Turning a signed-in user into a session: the team they act in
 * (`ensureDefaultTeam`) and the JWT response every sign-in route returns.
 */
import type { JwtCodec, TeamRole } from "../auth/jwt.js";
import { isUniqueViolation } from "../db/database-error.js";
import { toPublicId } from "../ids/public-id.js";
import type { MemberTeam } from "../teams/teams.repo.js";
import type { User } from "../users/users.repo.js";
import type { AccountsRepos } from "./accounts-store.js";
import { createTeamWithOwner } from "./team-creation.js";

/** The body of every sign-in response: a user JWT and who it speaks for (public ids). */
export interface AuthResponseJson {
  readonly token: string;
  readonly user_id: string;
  readonly team_id: string;
  readonly email: string;
  readonly name: string;
}

/** Issues a JWT for `user` acting in `teamId` with `role` (both read from the database by the caller). */
export function authResponse(
  jwt: JwtCodec,
  user: Pick<User, "id" | "email" | "name" | "isAdmin">,
  team: { readonly teamId: string; readonly role: TeamRole },
): AuthResponseJson {
  const userId = toPublicId("user", user.id);
  const teamId = toPublicId("team", team.teamId);
  const token = jwt.signUser({
    userId,
    teamId,
    role: team.role,
    email: user.email,
    name: user.name,
    isAdmin: user.isAdmin,
  });
  return { token, user_id: userId, team_id: teamId, email: user.email, name: user.name };
}

/** The name of the team made for a user who has none. */
export function personalTeamName(userName: string): string {
  const trimmed = userName.trim();
  return trimmed === "" ? "Personal Team" : `${trimmed}'s Team`.slice(0, 128);
}

/** What {@link ensureDefaultTeam} decided. */
export interface SessionTeam {
  readonly team: MemberTeam;
  /** The user as it is now (`isAdmin` may just have been granted). */
  readonly user: User;
}

/**
 * The team a sign-in lands in (inventory §5.13): the user's default team, else
 * the first team they joined, else a new personal team they own (made their
 * default). A user who gets a personal team while being the only active
 * account becomes platform admin: the first person to sign in to a new
 * installation administers it.
 */
export async function ensureDefaultTeam(repos: AccountsRepos, user: User): Promise<SessionTeam> {
  const existing = (await repos.teams.getDefaultForUser(user.id)) ?? (await repos.teams.listForUser(user.id))[0];
  if (existing !== undefined) return { team: existing, user };
  try {
    await createTeamWithOwner(repos.teams, { name: personalTeamName(user.name), ownerId: user.id, isDefault: true });
  } catch (err) {
    // Two sign-ins of the same new user raced; the other one made the team.
    if (!isUniqueViolation(err, "users_teams_one_default_key")) throw err;
  }
  const team = await repos.teams.getDefaultForUser(user.id);
  if (team === undefined) throw new Error("default team missing right after it was created");
  const promoted = await repos.users.grantAdminIfOnlyActiveUser(user.id);
  return { team, user: promoted ? { ...user, isAdmin: true } : user };
}
