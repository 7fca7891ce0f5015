/**
 * Small factories for repository and route tests: rows with unique names, so
 * tests sharing one database do not collide.
 */
import { randomBytes } from "node:crypto";
import type { Queryable } from "../db/database.js";
import { createTeamsRepo, type Team } from "../teams/teams.repo.js";
import { createUsersRepo, type NewUser, type User } from "../users/users.repo.js";

/** A short random hex tag for unique names. */
export function uniqueTag(): string {
  return randomBytes(5).toString("hex");
}

/** An address no other test uses. */
export function uniqueEmail(label = "user"): string {
  return `${label}-${uniqueTag()}@example.com`;
}

/** Inserts an active user with a unique address (fields overridable). */
export function createTestUser(db: Queryable, fields: Partial<NewUser> = {}): Promise<User> {
  return createUsersRepo(db).insert({ email: uniqueEmail(), name: "Test User", ...fields });
}

/** Inserts a team owned by `ownerId` (a new user when omitted) with a unique slug. */
export async function createTestTeam(db: Queryable, options: { ownerId?: string; name?: string } = {}): Promise<Team> {
  const ownerId = options.ownerId ?? (await createTestUser(db)).id;
  return createTeamsRepo(db).insertWithOwner({
    name: options.name ?? `Team ${uniqueTag()}`,
    slug: `${uniqueTag().slice(0, 6)}-${uniqueTag().slice(0, 6)}`,
    ownerId,
    isDefault: false,
  });
}
