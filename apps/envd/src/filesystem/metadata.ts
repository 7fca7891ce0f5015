import { Code, ConnectError } from "@connectrpc/connect";
import { errnoOf } from "../errors.js";

type Xattr = typeof import("fs-xattr");
let xattrModule: Promise<Xattr> | undefined;

/**
 * The native xattr addon, loaded on first use: most capsules never touch
 * metadata, and every one would otherwise pay its load time and memory at
 * envd start.
 */
function xattr(): Promise<Xattr> {
  xattrModule ??= import("fs-xattr");
  return xattrModule;
}

/**
 * Starts loading the xattr addon without waiting for it (a load error
 * surfaces on first real use). In the bundle, fs-xattr is an ES module
 * loaded from a CommonJS entry point, so its first import also initialises
 * Node's ES module loader (a few ms): the services start this once /init
 * says the capsule is about to be used, rather than inside its first Stat.
 */
export function preloadXattr(): void {
  xattr().catch(() => {});
}

/**
 * Extended-attribute namespace for user-defined file metadata. The `user.`
 * namespace is the only one unprivileged tools (getfattr/setfattr) can see,
 * and the `e2b.` infix keeps our keys apart from other programs' attributes.
 */
export const METADATA_XATTR_PREFIX = "user.e2b.";

/** Linux limits an attribute name to 255 bytes, prefix included. */
const MAX_NAME_BYTES = 255;
/** Linux limits one attribute value to 64 KiB. */
const MAX_VALUE_BYTES = 64 * 1024;

/**
 * Reads the user-defined metadata of `path` (symlinks are followed).
 * Best effort: a file system without xattr support, a file that vanished
 * or an unreadable attribute yields the metadata that could be read (often
 * `{}`), never an error, so one odd file cannot fail a whole ListDir.
 */
export async function readMetadata(path: string): Promise<Record<string, string>> {
  const { getAttribute, listAttributes } = await xattr();
  let names: string[];
  try {
    names = await listAttributes(path);
  } catch (err) {
    if (errnoOf(err) !== undefined) return {};
    throw err;
  }
  const result: Record<string, string> = {};
  for (const name of names) {
    if (!name.startsWith(METADATA_XATTR_PREFIX)) continue;
    const key = name.slice(METADATA_XATTR_PREFIX.length);
    if (key === "") continue;
    try {
      result[key] = (await getAttribute(path, name)).toString("utf8");
    } catch (err) {
      // Removed between list and get (ENODATA) or similar: skip the key.
      if (errnoOf(err) === undefined) throw err;
    }
  }
  return result;
}

/** How `writeMetadata` treats keys already on the file. */
export interface WriteMetadataOptions {
  /**
   * When true, metadata keys not in the new map are removed, so the file
   * ends up with exactly the given map. @default false (merge)
   */
  readonly replace?: boolean;
}

/**
 * Stores `metadata` on `path` as `user.e2b.<key>` extended attributes
 * (symlinks are followed). Keys must be non-empty, without NUL bytes, and
 * short enough for the kernel's 255-byte attribute-name limit; otherwise a
 * ConnectError(InvalidArgument) is thrown before anything is written.
 * File-system errors (ENOTSUP, ENOENT, ENOSPC...) propagate as Node errors
 * for `toConnectError` / `httpStatusOf` to translate.
 */
export async function writeMetadata(
  path: string,
  metadata: Readonly<Record<string, string>>,
  options: WriteMetadataOptions = {},
): Promise<void> {
  const entries = Object.entries(metadata);
  for (const [key, value] of entries) validate(key, value);
  const { listAttributes, removeAttribute, setAttribute } = await xattr();
  for (const [key, value] of entries) await setAttribute(path, METADATA_XATTR_PREFIX + key, value);
  if (!options.replace) return;
  const existing = await listAttributes(path);
  for (const name of existing) {
    if (!name.startsWith(METADATA_XATTR_PREFIX)) continue;
    if (Object.hasOwn(metadata, name.slice(METADATA_XATTR_PREFIX.length))) continue;
    try {
      await removeAttribute(path, name);
    } catch (err) {
      if (errnoOf(err) !== "ENODATA") throw err;
    }
  }
}

function validate(key: string, value: string): void {
  if (key === "" || key.includes("\0")) {
    throw new ConnectError("metadata keys must be non-empty and contain no NUL byte", Code.InvalidArgument);
  }
  if (Buffer.byteLength(METADATA_XATTR_PREFIX + key) > MAX_NAME_BYTES) {
    throw new ConnectError("metadata key is too long", Code.InvalidArgument);
  }
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) {
    throw new ConnectError("metadata value is too long (64 KiB at most)", Code.InvalidArgument);
  }
}
