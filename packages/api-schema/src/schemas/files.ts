/** Files inside a capsule (inventory §1.5 "Files", §2.2). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { LIMITS } from "../primitives/limits.js";
import { FilePath } from "../primitives/strings.js";

/** Kinds of directory entry. `unknown` covers sockets, devices and FIFOs. */
export const FileType = Type.Union([
  Type.Literal("file"),
  Type.Literal("directory"),
  Type.Literal("symlink"),
  Type.Literal("unknown"),
]);

/** A file or directory inside a capsule. */
export const FileEntry = Type.Object({
  name: Type.String({ examples: ["hello.txt"] }),
  path: Type.String({ examples: ["/home/user/hello.txt"] }),
  type: FileType,
  size: Type.Integer({ minimum: 0 }),
  mode: Type.Integer({ minimum: 0, description: "Unix mode bits.", examples: [420] }),
  permissions: Type.String({ description: "As `ls -l` shows them.", examples: ["-rw-r--r--"] }),
  owner: Type.String({ examples: ["root"] }),
  group: Type.String({ examples: ["root"] }),
  modified_at: Type.Integer({ description: "Unix time in seconds." }),
  symlink_target: Type.Optional(Type.String({ examples: ["/etc/hostname"] })),
});

/** A request naming one path (`read`, `stream/read`, `mkdir`, `remove`). */
export const PathRequest = Type.Object({ path: FilePath });

/** `POST /v1/capsules/{id}/files/list`. */
export const ListDirRequest = Type.Object({
  path: FilePath,
  depth: Type.Optional(
    Type.Integer({
      minimum: LIMITS.listDepth.min,
      maximum: LIMITS.listDepth.max,
      default: LIMITS.listDepth.default,
      description: "How deep to recurse: 1 lists the immediate children.",
    }),
  ),
});

/** Answer of a directory listing. */
export const ListDirResponse = Type.Object({ entries: Type.Array(FileEntry) });

/** Answer of `mkdir`: the new directory. An existing directory is 409 `conflict`. */
export const MakeDirResponse = Type.Object({ entry: FileEntry });

/**
 * Text fields of the multipart upload routes (`files/write`,
 * `files/stream/write`); the content is the `file` part.
 */
export const UploadFields = Type.Object({
  path: annotate(FilePath, { description: "Destination path; missing parent directories are created." }),
});

/** A file's raw bytes, as `application/octet-stream`. */
export const BinaryContent = Type.Unsafe<Uint8Array>({ type: "string", format: "binary" });

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link FileType}. */
export type FileType = Static<typeof FileType>;
/** A value matching {@link FileEntry}. */
export type FileEntry = Static<typeof FileEntry>;
/** A value matching {@link PathRequest}. */
export type PathRequest = Static<typeof PathRequest>;
/** A value matching {@link ListDirRequest}. */
export type ListDirRequest = Static<typeof ListDirRequest>;
/** A value matching {@link ListDirResponse}. */
export type ListDirResponse = Static<typeof ListDirResponse>;
/** A value matching {@link MakeDirResponse}. */
export type MakeDirResponse = Static<typeof MakeDirResponse>;
/** A value matching {@link UploadFields}. */
export type UploadFields = Static<typeof UploadFields>;
/** A value matching {@link BinaryContent}. */
export type BinaryContent = Static<typeof BinaryContent>;
