import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * Finds a program the way execvp would, without a shell: a name containing
 * "/" is checked as given, otherwise each PATH entry is tried in order.
 * Resolves to the path of the first regular executable file, or undefined.
 */
export async function findExecutable(name: string, pathEnv = process.env["PATH"] ?? ""): Promise<string | undefined> {
  if (name.includes("/")) return (await isExecutableFile(name)) ? name : undefined;
  for (const dir of pathEnv.split(delimiter)) {
    // Empty or relative PATH entries would depend on envd's working directory.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
