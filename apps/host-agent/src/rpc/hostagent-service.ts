/** The hostagent.v1 Connect service, assembled from its handler groups. */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import type { HostAgentDeps } from "./context.js";
import { toConnectError } from "./errors.js";
import { execHandlers } from "./exec.js";
import { fileHandlers } from "./files.js";
import { lifecycleHandlers } from "./lifecycle.js";
import { ptyMetricsHandlers } from "./pty-metrics.js";
import { snapshotHandlers } from "./snapshots.js";

export type { HostAgentDeps } from "./context.js";

type Impl = ServiceImpl<typeof HostAgentService>;
type Handler = (req: unknown, ctx: HandlerContext) => unknown;

/** Wraps a handler so every error leaves through toConnectError, streams included. */
function mapErrors(kind: string, h: Handler): Handler {
  if (kind === "server_streaming" || kind === "bidi_streaming") {
    return async function* (req: unknown, ctx: HandlerContext) {
      try {
        yield* h(req, ctx) as AsyncIterable<unknown>;
      } catch (err) {
        throw toConnectError(err);
      }
    };
  }
  return async (req: unknown, ctx: HandlerContext) => {
    try {
      return await h(req, ctx);
    } catch (err) {
      throw toConnectError(err);
    }
  };
}

/** Builds the HostAgentService implementation on a SandboxManager. */
export function createHostAgentService(deps: HostAgentDeps): Impl {
  const impl: Impl = {
    ...lifecycleHandlers(deps),
    ...execHandlers(deps),
    ...fileHandlers(deps),
    ...ptyMetricsHandlers(deps),
    ...snapshotHandlers(deps),
  };
  const wrapped: Record<string, Handler> = {};
  for (const [name, h] of Object.entries(impl) as [string, Handler][]) {
    const kind = HostAgentService.method[name as keyof typeof HostAgentService.method]?.methodKind ?? "unary";
    wrapped[name] = mapErrors(kind, h.bind(impl));
  }
  // Same keys and signatures as `impl`; only the thrown errors change.
  return wrapped as unknown as Impl;
}
