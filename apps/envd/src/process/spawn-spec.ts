import { constants, promises as fs } from "node:fs";
import { posix } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { toConnectError } from "../errors.js";
import { resolvePath } from "../paths.js";
import type { UserInfo } from "../users.js";
import type { PtySize, SpawnSpec } from "./child-io.js";

/** PATH for every process unless the sandbox's or the request's env vars set another. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Terminal size used when a PTY request names none (or zero). */
export const DEFAULT_PTY_SIZE: PtySize = { cols: 80, rows: 24 };

/** What a client asks to run (the wire ProcessConfig plus the start options). */
export interface ProcessRequest {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly envs: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  /** Requested PTY size; undefined for a plain (pipes) process. */
  readonly pty: { readonly cols: number; readonly rows: number } | undefined;
  readonly stdin: boolean;
}

/** Where the defaults come from: the /init state of envd. */
export interface SpawnDefaults {
  readonly envVars: ReadonlyMap<string, string>;
  readonly defaultWorkdir: string | undefined;
}

/**
 * Validates a start request and turns it into a SpawnSpec for `user`:
 * - environment: PATH, HOME, USER, LOGNAME, then the sandbox env vars from
 *   /init, then the request's envs (later entries win); nothing leaks from envd's own environment;
 * - cwd: the request's (relative and `~` resolved against the user's home),
 *   else the default workdir, else home; it must be an existing directory;
 * - the executable is looked up in the child's PATH now, so that a typo is a
 *   clear NotFound instead of a PTY that prints an exec error and exits 1.
 * Throws ConnectError (InvalidArgument, NotFound, PermissionDenied).
 */
export async function prepareSpawn(
  user: UserInfo,
  request: ProcessRequest,
  defaults: SpawnDefaults,
): Promise<SpawnSpec> {
  if (request.cmd === "") throw invalid("process.cmd must not be empty");
  if (hasNul(request.cmd) || request.args.some(hasNul))
    throw invalid("command and arguments must not contain NUL bytes");
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
  };
  for (const [key, value] of defaults.envVars) env[key] = value;
  for (const [key, value] of Object.entries(request.envs)) {
    if (key === "" || key.includes("=") || hasNul(key) || hasNul(value)) {
      throw invalid("environment variable names must be non-empty without '=' or NUL, values without NUL");
    }
    env[key] = value;
  }
  const cwd = await checkedCwd(request.cwd ?? "", user, defaults.defaultWorkdir);
  const file = await findExecutable(request.cmd, env["PATH"] ?? "", cwd);
  return {
    file,
    argv0: request.cmd,
    args: request.args,
    env,
    cwd,
    uid: user.uid,
    gid: user.gid,
    groups: user.groups,
    pty: request.pty ? ptySize(request.pty, DEFAULT_PTY_SIZE) : undefined,
    stdin: request.stdin,
  };
}

/** A PTY size from the wire: zero means "use the fallback"; cells must fit the kernel's 16-bit fields. */
export function ptySize(size: { readonly cols: number; readonly rows: number }, fallback?: PtySize): PtySize {
  const cols = size.cols === 0 && fallback ? fallback.cols : size.cols;
  const rows = size.rows === 0 && fallback ? fallback.rows : size.rows;
  if (cols < 1 || rows < 1 || cols > 0xffff || rows > 0xffff) {
    throw invalid("pty size must have cols and rows between 1 and 65535");
  }
  return { cols, rows };
}

async function checkedCwd(requested: string, user: UserInfo, defaultWorkdir: string | undefined): Promise<string> {
  let cwd: string;
  try {
    cwd = resolvePath(requested, user, defaultWorkdir);
  } catch (err) {
    throw toConnectError(err);
  }
  let isDir: boolean;
  try {
    isDir = (await fs.stat(cwd)).isDirectory();
  } catch {
    throw invalid(`cwd '${cwd}' does not exist`);
  }
  if (!isDir) throw invalid(`cwd '${cwd}' is not a directory`);
  return cwd;
}

/**
 * Looks `cmd` up like execvp: a name with a slash is a path (relative to the
 * child's cwd), otherwise each PATH entry is tried (an empty entry is the cwd).
 */
export async function findExecutable(cmd: string, path: string, cwd: string): Promise<string> {
  if (cmd.includes("/")) {
    const file = posix.resolve(cwd, cmd);
    if (await isExecutableFile(file)) return file;
    throw new ConnectError(`executable '${cmd}' not found or not executable`, Code.NotFound);
  }
  for (const dir of path.split(":")) {
    const file = posix.resolve(cwd, dir, cmd);
    if (await isExecutableFile(file)) return file;
  }
  throw new ConnectError(`executable '${cmd}' not found in PATH`, Code.NotFound);
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await fs.stat(file)).isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasNul(s: string): boolean {
  return s.includes("\0");
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
