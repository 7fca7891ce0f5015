import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type { Logger } from "@wrenn/kit";
import { createApiKeysRepo } from "../api-keys/api-keys.repo.js";
import { generateApiKey } from "../auth/api-key.js";
import { hashPassword } from "../auth/password.js";
import type { Database } from "../db/database.js";
import { newTeamSlug } from "../ids/generators.js";
import { createTeamsRepo } from "../teams/teams.repo.js";
import { createUsersRepo } from "../users/users.repo.js";

/** What `./wrenn up` prints and keeps in `$WRENN_DIR/bootstrap.json` (mode 0600). */
export interface BootstrapCredentials {
  readonly url: string;
  readonly email: string;
  readonly password: string;
  readonly api_key: string;
}

/** Options of {@link bootstrapFirstStart}. */
export interface FirstStartOptions {
  readonly db: Database;
  /** Where to write the credentials. */
  readonly file: string;
  /** The control plane's public URL, recorded in the file. */
  readonly url: string;
  /** The administrator's address. @default "admin@wrenn.local" */
  readonly email?: string;
  readonly log: Logger;
}

/**
 * On the very first start (no users at all), creates the platform
 * administrator with a random password, their team and an API key, and
 * writes them to `file` (0600) — the only place the password and key exist in
 * plain text. Later starts do nothing. Runs in one transaction: a crash never
 * leaves an admin without a key.
 */
export async function bootstrapFirstStart(options: FirstStartOptions): Promise<BootstrapCredentials | undefined> {
  const email = options.email ?? "admin@wrenn.local";
  const password = randomBytes(18).toString("base64url");
  const passwordHash = await hashPassword(password);
  const key = generateApiKey();
  const created = await options.db.transaction(async (tx) => {
    const users = createUsersRepo(tx);
    if ((await users.count()) > 0) return false;
    const user = await users.insert({ email, name: "Admin", passwordHash, status: "active", isAdmin: true });
    const team = await createTeamsRepo(tx).insertWithOwner({
      name: "Admin's Team",
      slug: newTeamSlug(),
      ownerId: user.id,
      isDefault: true,
    });
    await createApiKeysRepo(tx).insert({
      teamId: team.id,
      name: "bootstrap",
      keyHash: key.hash,
      keyPrefix: key.prefix,
      createdBy: user.id,
    });
    return true;
  });
  if (!created) return undefined;
  const credentials: BootstrapCredentials = { url: options.url, email, password, api_key: key.plaintext };
  await writeFile(options.file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  options.log.info({ file: options.file, email }, "first start: administrator and API key created");
  return credentials;
}
