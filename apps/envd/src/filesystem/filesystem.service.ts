import { promises as fs } from "node:fs";
import { posix } from "node:path";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Filesystem } from "@wrenn/protocol/envd/filesystem";
import { assertAccess } from "../access.js";
import type { EnvdEnv } from "../env.js";
import { toConnectError } from "../errors.js";
import { resolvePath } from "../paths.js";
import { requestUser } from "../rpc/request-user.js";
import type { UserInfo } from "../users.js";
import { entryInfo } from "./entry-info.js";
import { listDir } from "./list-dir.js";
import { ensureDir, makeDir } from "./make-dir.js";
import { removePath } from "./remove.js";
import { watchDirStream } from "./watch-dir.js";
import { WatcherRegistry } from "./watcher-registry.js";

/**
 * The envd `filesystem.Filesystem` Connect service (E2B wire protocol).
 * Every RPC runs as the request's user (Basic auth, else envd's default
 * user): paths are resolved against that user's home and checked with
 * `assertAccess`, because envd itself runs as root. Errors are Connect
 * codes the e2b SDK maps: NotFound → FileNotFoundError, AlreadyExists →
 * makeDir() === false, and so on.
 *
 * `watchers` holds CreateWatcher's watchers; pass one the caller can close
 * on shutdown (a private one is made otherwise).
 */
export function createFilesystemService(
  env: EnvdEnv,
  watchers: WatcherRegistry = new WatcherRegistry(env.log.child({ component: "watchers" })),
): ServiceImpl<typeof Filesystem> {
  /** The user and resolved path of a request, or a ConnectError. */
  const target = (ctx: HandlerContext, path: string): { user: UserInfo; path: string } => {
    const user = requestUser(env, ctx);
    try {
      const resolved = resolvePath(path, user, env.state.defaultWorkdir);
      // "dir/" and "dir" are the same entry; names and event paths must not depend on the slash.
      return { user, path: resolved.length > 1 && resolved.endsWith("/") ? resolved.slice(0, -1) : resolved };
    } catch (err) {
      throw toConnectError(err);
    }
  };
  /** Runs `fn`, translating Node and envd errors, naming `subject` in the message. */
  const run = async <T>(subject: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toConnectError(err, subject);
    }
  };

  return {
    async stat(req, ctx) {
      const { user, path } = target(ctx, req.path);
      return run(path, async () => {
        await assertAccess(path, user, "stat");
        return { entry: await entryInfo(env, path) };
      });
    },

    async makeDir(req, ctx) {
      const { user, path } = target(ctx, req.path);
      return run(path, async () => {
        await makeDir(path, user);
        return { entry: await entryInfo(env, path) };
      });
    },

    async move(req, ctx) {
      const { user, path: source } = target(ctx, req.source);
      const { path: destination } = target(ctx, req.destination);
      await run(source, async () => {
        await fs.lstat(source);
        await assertAccess(source, user, "remove");
      });
      return run(destination, async () => {
        await assertAccess(destination, user, "create");
        await ensureDir(posix.dirname(destination), user);
        await fs.rename(source, destination);
        return { entry: await entryInfo(env, destination) };
      });
    },

    async listDir(req, ctx) {
      const { user, path } = target(ctx, req.path);
      const depth = req.depth === 0 ? 1 : req.depth;
      return run(path, async () => ({ entries: await listDir(env, user, path, depth) }));
    },

    async remove(req, ctx) {
      const { user, path } = target(ctx, req.path);
      return run(path, async () => {
        await removePath(path, user);
        return {};
      });
    },

    async *watchDir(req, ctx) {
      const { user, path } = target(ctx, req.path);
      yield* watchDirStream(env, user, path, { req, ctx });
    },

    async createWatcher(req, ctx) {
      const { user, path } = target(ctx, req.path);
      const watcherId = await watchers.create({
        env,
        user,
        root: path,
        recursive: req.recursive,
        includeEntry: req.includeEntry,
        allowNetworkMounts: req.allowNetworkMounts,
      });
      return { watcherId };
    },

    async getWatcherEvents(req) {
      return { events: watchers.drain(req.watcherId) };
    },

    async removeWatcher(req) {
      watchers.remove(req.watcherId);
      return {};
    },
  };
}
