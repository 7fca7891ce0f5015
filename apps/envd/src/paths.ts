import { posix } from "node:path";
import type { UserInfo } from "./users.js";

/** Thrown for a path that cannot name a file (empty after trimming, NUL bytes, too long). */
export class InvalidPathError extends Error {
  override name = "InvalidPathError";
}

const MAX_PATH = 4096;

/**
 * Resolves a client path the way E2B envd does: `~` and `~/x` expand to the
 * user's home, relative paths are joined to the home directory, an empty
 * path means the default workdir (or home), and the result is normalised
 * (`..` cannot climb above `/`). Whether the user may touch the result is
 * decided by `assertAccess`, not here.
 */
export function resolvePath(input: string, user: UserInfo, defaultWorkdir?: string): string {
  if (input.includes("\0")) throw new InvalidPathError("path contains a NUL byte");
  if (input.length > MAX_PATH) throw new InvalidPathError("path is too long");
  if (input === "") return posix.normalize(defaultWorkdir || user.home);
  if (input === "~") return posix.normalize(user.home);
  if (input.startsWith("~/")) return posix.join(user.home, input.slice(2));
  if (input.startsWith("/")) return posix.normalize(input);
  return posix.join(user.home, input);
}
