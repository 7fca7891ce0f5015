import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Inodes of every socket this process holds open, read from /proc/self/fd
 * (`socket:[inode]` links). Used to keep envd from forwarding its own ports.
 * Descriptors closed while reading are skipped.
 */
export async function ownSocketInodes(fdDir = "/proc/self/fd"): Promise<Set<number>> {
  const inodes = new Set<number>();
  let names: string[];
  try {
    names = await readdir(fdDir);
  } catch {
    return inodes;
  }
  await Promise.all(
    names.map(async (name) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await readlink(join(fdDir, name)));
        if (m?.[1]) inodes.add(Number(m[1]));
      } catch {
        // The descriptor was closed after readdir.
      }
    }),
  );
  return inodes;
}
