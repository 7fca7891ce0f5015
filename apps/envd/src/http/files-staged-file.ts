import { randomBytes } from "node:crypto";
import { promises as fs, type WriteStream } from "node:fs";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeMetadata } from "../filesystem/metadata.js";
import type { UserInfo } from "../users.js";
import { UPLOAD_CHUNK } from "./files-body.js";
import { prepareUploadTarget, removeCreatedDirs, type UploadTarget } from "./files-target.js";

/** One entry of the `POST /files` response (the E2B envd EntryInfo). */
export interface UploadedEntry {
  readonly path: string;
  readonly name: string;
  readonly type: "file";
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * An uploaded file written in full to a temporary file beside its target,
 * owned by the user, with its mode and metadata set, waiting to be renamed
 * into place. Until `commit` the target is untouched, so a truncated or
 * failed request never leaves a half-written file behind.
 */
export interface StagedFile {
  readonly entry: UploadedEntry;
  /** Renames the temporary file over the target. */
  commit(): Promise<void>;
  /** Removes the temporary file and any directories created for it. */
  discard(): Promise<void>;
}

/** What to stage: the checked destination, its owner, and the bytes. */
export interface StageOptions {
  readonly path: string;
  readonly user: UserInfo;
  readonly metadata: Readonly<Record<string, string>>;
  readonly source: Readable;
}

/**
 * Streams `source` into a new temporary file next to `path` (back-pressured,
 * constant memory) and returns it staged. On any failure the temporary file
 * and the directories created for it are removed before the error is rethrown.
 */
export async function stageFile(opts: StageOptions): Promise<StagedFile> {
  const target = await prepareUploadTarget(opts.path, opts.user);
  let tempPath: string;
  try {
    tempPath = await writeTemp(target, opts);
  } catch (err) {
    await removeCreatedDirs(target.createdDirs);
    throw err;
  }
  const hasMetadata = Object.keys(opts.metadata).length > 0;
  return {
    entry: {
      path: target.path,
      name: posix.basename(target.path),
      type: "file",
      ...(hasMetadata ? { metadata: opts.metadata } : {}),
    },
    commit: () => fs.rename(tempPath, target.path),
    async discard() {
      await fs.rm(tempPath, { force: true });
      await removeCreatedDirs(target.createdDirs);
    },
  };
}

async function writeTemp(target: UploadTarget, opts: StageOptions): Promise<string> {
  const dir = posix.dirname(target.path);
  // Hidden, unique, and short enough for NAME_MAX even when the target's own name is long.
  const temp = posix.join(
    dir,
    `.${posix.basename(target.path).slice(0, 200)}.${randomBytes(6).toString("hex")}.upload`,
  );
  // O_EXCL: never open something a local user planted at that name (such as a symlink).
  const handle = await fs.open(temp, "wx", 0o600);
  let stream: WriteStream | undefined;
  try {
    // Through the descriptor, so a rename race cannot redirect chown/chmod to another file.
    await handle.chown(opts.user.uid, opts.user.gid);
    await handle.chmod(target.mode);
    // The stream owns the descriptor from here and closes it when it finishes or fails.
    stream = handle.createWriteStream({ highWaterMark: UPLOAD_CHUNK });
    await pipeline(opts.source, stream);
    if (Object.keys(opts.metadata).length > 0) await writeMetadata(temp, opts.metadata, { replace: true });
    return temp;
  } catch (err) {
    if (stream === undefined) await handle.close().catch(() => {});
    await fs.rm(temp, { force: true });
    throw err;
  }
}
