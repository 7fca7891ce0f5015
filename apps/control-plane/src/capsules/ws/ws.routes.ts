import {
  type ApiRoute,
  apiRoutes,
  ExecStreamClientMessage,
  ProcessStreamClientMessage,
  PtyClientMessage,
} from "@wrenn/api-schema";
import type { FastifyReply } from "fastify";
import type { RouteModule } from "../../app.js";
import { routeOptions } from "../../http/route-options.js";
import { type ProcessStreamDeps, runExecStream, runProcessStream } from "./process-events.ws.js";
import { runPtySession } from "./pty.ws.js";
import { WsSession } from "./ws-session.js";

/** The three capsule WebSockets (registered in the app's WebSocket scope). */
export function capsuleWsRoutes(deps: ProcessStreamDeps & { readonly pingIntervalMs?: number }): RouteModule {
  const options = (route: ApiRoute) => {
    const { method: _m, ...rest } = routeOptions(route, deps.auth);
    return {
      ...rest,
      method: "GET" as const,
      // A plain GET (no Upgrade) on a WebSocket route.
      handler: async (_req: unknown, reply: FastifyReply) =>
        reply
          .code(426)
          .header("upgrade", "websocket")
          .send({ error: { code: "upgrade_required", message: "this route is a WebSocket: connect with ws://" } }),
    };
  };
  return (app) => {
    app.route({
      ...options(apiRoutes.execStream),
      wsHandler: (socket, req) => runExecStream(deps, new WsSession(socket, ExecStreamClientMessage), req as never),
    });
    app.route({
      ...options(apiRoutes.ptySession),
      wsHandler: (socket, req) => runPtySession(deps, new WsSession(socket, PtyClientMessage), req as never),
    });
    app.route({
      ...options(apiRoutes.connectProcess),
      wsHandler: (socket, req) =>
        runProcessStream(deps, new WsSession(socket, ProcessStreamClientMessage), req as never),
    });
  };
}
