/**
 * The metadata written beside a paused capsule's Firecracker snapshot. It carries the
 * template id across pause/resume: the reference re-put MMDS on resume without it, so envd
 * wrote an empty `.WRENN_TEMPLATE_ID`.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Contents of `snapshot/meta.json`. */
export interface FcSnapshotMeta {
  readonly version: 1;
  readonly sandboxId: string;
  readonly templateId: string;
  /** File names inside the snapshot directory. */
  readonly vmstate: string;
  readonly memfile: string;
  readonly vcpus: number;
  readonly memoryMb: number;
}

/** Snapshot file locations under a capsule's state directory. */
export function snapshotPaths(stateDir: string): { dir: string; vmstate: string; memfile: string; meta: string } {
  const dir = join(stateDir, "snapshot");
  return { dir, vmstate: join(dir, "vmstate"), memfile: join(dir, "memfile"), meta: join(dir, "meta.json") };
}

/** Writes the metadata atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeSnapshotMeta(path: string, meta: FcSnapshotMeta): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Reads and checks the metadata; throws on a missing or empty template id rather than resuming without it. */
export async function readSnapshotMeta(path: string): Promise<FcSnapshotMeta> {
  return parseSnapshotMeta(await readFile(path, "utf8"));
}

/** PURE: parses and validates metadata text. */
export function parseSnapshotMeta(text: string): FcSnapshotMeta {
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null) throw new Error("snapshot metadata is not an object");
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    const x = o[k];
    if (typeof x !== "string" || x === "") throw new Error(`snapshot metadata: ${k} missing or empty`);
    return x;
  };
  const num = (k: string): number => {
    const x = o[k];
    if (typeof x !== "number" || !Number.isInteger(x) || x < 1) throw new Error(`snapshot metadata: bad ${k}`);
    return x;
  };
  if (o["version"] !== 1) throw new Error(`snapshot metadata: unsupported version ${String(o["version"])}`);
  return {
    version: 1,
    sandboxId: str("sandboxId"),
    templateId: str("templateId"),
    vmstate: str("vmstate"),
    memfile: str("memfile"),
    vcpus: num("vcpus"),
    memoryMb: num("memoryMb"),
  };
}
