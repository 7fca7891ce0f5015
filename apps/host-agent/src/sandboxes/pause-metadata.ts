/**
 * The small JSON file a capsule's state directory keeps for its whole life, naming the capsule
 * and its template for whoever inspects the directory. The reference kept the template id only
 * in a file written at pause and resumed capsules with an empty WRENN_TEMPLATE_ID when it was
 * lost; here the manager hands envd the id from its record, and this file is written once at
 * create (nothing in it changes afterwards, so a pause writes nothing).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";

/** File name inside the capsule's state directory. */
export const PAUSE_METADATA_FILE = "sandbox-meta.json";

/** What a paused capsule needs to be handed back on resume. */
export interface PauseMetadata {
  readonly sandboxId: string;
  readonly templateId: string;
}

/**
 * Writes the metadata atomically (temp file + rename), so a crash never leaves half a file.
 * No fsync: the file only matters while the agent that wrote it runs (a restarted agent
 * removes every capsule it finds), and the page cache outlives any crash of the agent.
 */
export async function writePauseMetadata(stateDir: string, meta: PauseMetadata): Promise<void> {
  const path = join(stateDir, PAUSE_METADATA_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(meta)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Reads the metadata back (inspection, tests); `internal` if it is missing or malformed. */
export async function readPauseMetadata(stateDir: string): Promise<PauseMetadata> {
  const path = join(stateDir, PAUSE_METADATA_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new PlatformError("internal", "PAUSE_METADATA_UNREADABLE", `cannot read ${path}`, { cause: err });
  }
  const m = parsed as Partial<Record<keyof PauseMetadata, unknown>>;
  if (typeof m.sandboxId !== "string" || typeof m.templateId !== "string") {
    throw new PlatformError("internal", "PAUSE_METADATA_INVALID", `${path} does not hold pause metadata`);
  }
  return { sandboxId: m.sandboxId, templateId: m.templateId };
}
