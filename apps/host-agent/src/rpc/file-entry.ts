/** envd EntryInfo → hostagent FileEntry. */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { type EntryInfo, FileType } from "@wrenn/protocol/envd/filesystem";
import type { FileEntrySchema } from "@wrenn/protocol/hostagent/v1";

const TYPES: Readonly<Record<number, string>> = {
  [FileType.FILE]: "file",
  [FileType.DIRECTORY]: "directory",
  [FileType.SYMLINK]: "symlink",
};

/** The proto's FileEntry for one envd entry (type as a word, mtime in unix seconds). */
export function fileEntry(e: EntryInfo): MessageInitShape<typeof FileEntrySchema> {
  return {
    name: e.name,
    path: e.path,
    type: TYPES[e.type] ?? "unknown",
    size: e.size,
    mode: e.mode,
    permissions: e.permissions,
    owner: e.owner,
    group: e.group,
    modifiedAt: e.modifiedTime?.seconds ?? 0n,
    ...(e.symlinkTarget !== undefined ? { symlinkTarget: e.symlinkTarget } : {}),
  };
}
