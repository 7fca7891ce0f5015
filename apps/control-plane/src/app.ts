import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import { sharedSchemas } from "@wrenn/api-schema";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { installErrorHandler } from "./http/error-handler.js";
import { type HttpMetrics, installMetrics } from "./http/metrics.js";
import { installOpenApi } from "./http/openapi.js";
import { ControlPlaneServer, type RequestInterceptor } from "./http/server-factory.js";
import { SERVER_TIMEOUTS } from "./http/server-timeouts.js";
import { installValidators } from "./http/validators.js";

/** The Fastify instance of the control plane, typed for TypeBox schemas. */
export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A feature's routes: registered after the core plugins, inside the app's root scope. */
export type RouteModule = (app: App) => Promise<void> | void;

/** What {@link buildApp} needs. Services are injected through the route modules' closures. */
export interface AppDeps {
  /** Version reported by `/health` and the OpenAPI document. */
  readonly version: string;
  /** A pino logger (redaction configured by the caller); tests pass a silent one. */
  readonly logger: FastifyBaseLogger;
  /** Feature route modules, registered in order. */
  readonly routes?: readonly RouteModule[];
  /**
   * WebSocket route modules. They live in the only scope where
   * @fastify/websocket is registered, so an `Upgrade` header on any other
   * route is an ordinary HTTP request (answered by its handler and hooks, e.g.
   * 401) and never becomes a socket.
   */
  readonly wsRoutes?: readonly RouteModule[];
  /** Largest JSON body accepted, in bytes. @default 1 MiB */
  readonly bodyLimit?: number;
  /**
   * Handles requests (and WebSocket upgrades) before Fastify routing, for the
   * sandbox subdomain proxy. Returns true when it took the request.
   */
  readonly intercept?: RequestInterceptor;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the control plane's HTTP app: error body, request ids, metrics,
 * OpenAPI + docs, WebSocket support, `/health`, then the feature routes. It
 * never listens (fastify's "app builds, server listens" split): `main.ts` and
 * tests decide that.
 */
export async function buildApp(deps: AppDeps): Promise<{ app: App; metrics: HttpMetrics }> {
  const server = new ControlPlaneServer(deps.intercept);
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    keepAliveTimeout: SERVER_TIMEOUTS.idleMs,
    requestTimeout: 0,
    connectionTimeout: 0,
    forceCloseConnections: "idle",
    return503OnClosing: true,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    serverFactory: server.factory,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Every body of the API is JSON or multipart: without this, Fastify's
  // built-in text/plain parser would hand a string to the JSON schema (a
  // confusing 400) instead of answering 415 for the wrong media type.
  app.removeContentTypeParser("text/plain");
  app.decorateRequest("principal", undefined);
  app.decorateRequest("hostId", undefined);
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", request.id);
  });
  installValidators(app);
  installErrorHandler(app);
  const metrics = installMetrics(app);
  await installOpenApi(app, deps.version);

  app.get("/health", { schema: { hide: true } }, async () => ({ status: "ok", version: deps.version }));
  for (const register of deps.routes ?? []) await register(app);
  await app.register(async (scope) => {
    await scope.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
    scope.addHook("onRoute", (route) => {
      if ((route.websocket === true || route.wsHandler !== undefined) && route.method === "GET") {
        server.addWebSocketRoute(route.url);
      }
    });
    for (const register of deps.wsRoutes ?? []) await register(scope);
  });
  return { app, metrics };
}
