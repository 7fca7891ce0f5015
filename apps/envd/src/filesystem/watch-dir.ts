import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  type FilesystemEvent,
  type WatchDirRequest,
  type WatchDirResponse,
  WatchDirResponseSchema,
} from "@wrenn/protocol/envd/filesystem";
import type { EnvdEnv } from "../env.js";
import { EventStream } from "../rpc/event-stream.js";
import { keepaliveIntervalMs } from "../rpc/keepalive.js";
import type { UserInfo } from "../users.js";
import { DirWatcher } from "./dir-watcher.js";

/**
 * Responses queued for one stream before the watcher stops classifying
 * (back-pressure). Past that, raw notifications pile up in the watcher
 * until its own bound, and then the stream fails with ResourceExhausted:
 * a client that cannot keep up learns it lost events instead of silently
 * missing some.
 */
const STREAM_CAPACITY = 1024;

/**
 * Server stream of WatchDir: a `start` event once the watch is in place,
 * then filesystem events, plus `keepalive` events when the client sent
 * Keepalive-Ping-Interval and nothing else was sent for that long. Ends
 * when the client cancels (the watch is released at once), when the
 * directory itself is removed, or with an error when the watcher fails.
 */
export async function* watchDirStream(
  env: EnvdEnv,
  user: UserInfo,
  root: string,
  input: { readonly req: WatchDirRequest; readonly ctx: HandlerContext },
): AsyncGenerator<WatchDirResponse> {
  const { req, ctx } = input;
  const stream = new EventStream<WatchDirResponse>(STREAM_CAPACITY);
  let sentSinceTick = false;
  const watcher = await DirWatcher.start({
    env,
    user,
    root,
    recursive: req.recursive,
    includeEntry: req.includeEntry,
    allowNetworkMounts: req.allowNetworkMounts,
    onEvent: (event: FilesystemEvent) => {
      sentSinceTick = true;
      stream.push(create(WatchDirResponseSchema, { event: { case: "filesystem", value: event } }));
      return stream.drained();
    },
    onEnd: (err) => (err ? stream.fail(err) : stream.end()),
  });
  const onAbort = () => stream.end();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  if (ctx.signal.aborted) stream.end();
  const intervalMs = keepaliveIntervalMs(ctx);
  const timer = setInterval(() => {
    if (!sentSinceTick && stream.size === 0) {
      stream.push(create(WatchDirResponseSchema, { event: { case: "keepalive", value: {} } }));
    }
    sentSinceTick = false;
  }, intervalMs);
  try {
    yield create(WatchDirResponseSchema, { event: { case: "start", value: {} } });
    yield* stream;
  } finally {
    clearInterval(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    watcher.close();
    stream.end();
  }
}
