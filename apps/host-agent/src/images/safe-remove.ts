import { readFile, rm } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../exec/command-runner.js";

/** Mount points listed in a /proc/<pid>/mountinfo text (octal escapes such as `\040` decoded). */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (field)
      points.push(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return points;
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsBelow(mountPoints: readonly string[], dir: string): string[] {
  const root = resolve(dir);
  return mountPoints.filter((m) => m === root || m.startsWith(root + sep)).sort((a, b) => b.length - a.length);
}

async function currentMountsBelow(dir: string): Promise<string[]> {
  return mountsBelow(parseMountPoints(await readFile("/proc/self/mountinfo", "utf8")), dir);
}

/**
 * Deletes a build tree, but never through a mount: a recursive delete that
 * walks into a still-mounted /proc or bind mount would act on the host. Mounts
 * found below `dir` are unmounted first; if any remain, it refuses.
 */
export async function removeTreeSafely(dir: string, runner: CommandRunner): Promise<void> {
  for (const m of await currentMountsBelow(dir)) await runChecked(runner, ["umount", m]);
  const left = await currentMountsBelow(dir);
  if (left.length > 0) {
    throw new PlatformError("failed_precondition", "IMAGE_TREE_MOUNTED", `refusing to delete ${dir}: still mounted`, {
      details: { mounts: left.join(",") },
    });
  }
  await rm(dir, { recursive: true, force: true });
}
