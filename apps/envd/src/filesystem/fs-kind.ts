import { promises as fs } from "node:fs";

/** How a watcher should treat the file system a directory lives on. */
export type FsKind = "local" | "network" | "pseudo";

/** statfs f_type magic numbers (linux/magic.h and the file systems' own headers). */
const NETWORK_MAGIC: ReadonlySet<number> = new Set([
  0x6969, // nfs
  0xff534d42, // cifs
  0x517b, // smb
  0xfe534d42, // smb2
  0x65735546, // fuse (sshfs, s3fs, gcsfuse... any FUSE daemon may be remote)
  0x00c36400, // ceph
  0x5346414f, // afs
  0x6b414653, // kafs
  0x73757245, // coda
  0x564c, // ncp
  0x01021997, // 9p (v9fs)
]);

/** Kernel-generated trees: watching them recursively means thousands of useless inotify watches. */
const PSEUDO_MAGIC: ReadonlySet<number> = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x1cd1, // devpts
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
  0xcafe4a11, // bpf
  0x62656570, // configfs
  0x6165676c, // pstore
  0x65735543, // fusectl
]);

/** Classifies an f_type magic number. @internal — exported for tests. */
export function fsKindOfMagic(magic: number): FsKind {
  // statfs reports f_type as a signed long on some platforms.
  const unsigned = magic >>> 0;
  if (NETWORK_MAGIC.has(unsigned)) return "network";
  if (PSEUDO_MAGIC.has(unsigned)) return "pseudo";
  return "local";
}

/**
 * Kind of file system `path` is on. Network file systems do not deliver
 * inotify events for changes made by other clients, which is why E2B
 * refuses to watch them unless the client opts in.
 */
export async function fsKindOf(path: string): Promise<FsKind> {
  const st = await fs.statfs(path);
  return fsKindOfMagic(st.type);
}
