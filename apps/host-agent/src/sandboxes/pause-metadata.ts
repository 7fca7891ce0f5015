/**
 * The small JSON file a capsule's state directory keeps across pause/resume. The reference
 * lost the template id there and resumed capsules with an empty WRENN_TEMPLATE_ID.
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
  /** Milliseconds since the epoch (manager clock). */
  readonly pausedAt: number;
}

/** Writes the metadata atomically (temp file + rename), so a crash never leaves half a file. */
export async function writePauseMetadata(stateDir: string, meta: PauseMetadata): Promise<void> {
  const path = join(stateDir, PAUSE_METADATA_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(meta)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Reads the metadata back; `internal` if it is missing or malformed. */
export async function readPauseMetadata(stateDir: string): Promise<PauseMetadata> {
  const path = join(stateDir, PAUSE_METADATA_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new PlatformError("internal", "PAUSE_METADATA_UNREADABLE", `cannot read ${path}`, { cause: err });
  }
  const m = parsed as Partial<Record<keyof PauseMetadata, unknown>>;
  if (typeof m.sandboxId !== "string" || typeof m.templateId !== "string" || typeof m.pausedAt !== "number") {
    throw new PlatformError("internal", "PAUSE_METADATA_INVALID", `${path} does not hold pause metadata`);
  }
  return { sandboxId: m.sandboxId, templateId: m.templateId, pausedAt: m.pausedAt };
}
