/**
 * Creating a team with its owner, retrying on the (astronomically rare) slug
 * collision: slugs are 48 random bits, unique by index.
 */
import { isUniqueViolation } from "../db/database-error.js";
import { newTeamSlug } from "../ids/generators.js";
import type { Team, TeamsRepo } from "../teams/teams.repo.js";

const SLUG_ATTEMPTS = 3;

/**
 * Inserts a team and the owner's membership together. Throws a unique
 * violation on `users_teams_one_default_key` when `isDefault` and the owner
 * already has a default team.
 */
export async function createTeamWithOwner(
  teams: TeamsRepo,
  team: { readonly name: string; readonly ownerId: string; readonly isDefault: boolean },
): Promise<Team> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await teams.insertWithOwner({ ...team, slug: newTeamSlug() });
    } catch (err) {
      if (!isUniqueViolation(err, "teams_slug_key") || attempt >= SLUG_ATTEMPTS) throw err;
    }
  }
}
