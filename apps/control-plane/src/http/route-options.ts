import type { ApiRoute } from "@wrenn/api-schema";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./api-error.js";
import type { Authenticator, Principal, UserPrincipal } from "./auth.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the route's auth hook on team-scoped routes. */
    principal: Principal | undefined;
    /** Set by the route's auth hook on host routes (the host's UUID). */
    hostId: string | undefined;
  }
}

/**
 * Fastify route options for a catalog route: method, URL, the catalog's
 * schema (validation, serialisation, OpenAPI) and an `onRequest` hook that
 * authenticates by the route's auth kind — before the body is read, so
 * anonymous callers cannot make the server parse large bodies. Spread it
 * into `app.route({ ...routeOptions(route, auth), handler })`.
 */
export function routeOptions<TRoute extends ApiRoute>(route: TRoute, auth: Authenticator) {
  return {
    method: route.method,
    url: route.url,
    schema: route.schema as TRoute["schema"],
    onRequest: authHook(route, auth),
    ...(bodyIsOptional(route) ? { preValidation: emptyBodyAsObject } : {}),
  };
}

/** A JSON body whose fields are all optional may be left out entirely (`curl -X POST` with no data). */
function bodyIsOptional(route: ApiRoute): boolean {
  const body = route.schema.body as { type?: unknown; required?: unknown[] } | undefined;
  return body !== undefined && body.type === "object" && (body.required === undefined || body.required.length === 0);
}

// Only a missing body: a JSON `null` is a body, and the schema refuses it.
async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

function authHook(route: ApiRoute, auth: Authenticator) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    switch (route.auth) {
      case "none":
      case "admin_ws":
        return;
      case "key_or_jwt":
        request.principal = await auth.keyOrJwt(request.headers);
        return;
      case "jwt":
        request.principal = await auth.jwt(request.headers);
        return;
      case "admin":
        request.principal = await auth.admin(request.headers);
        return;
      case "host":
        request.hostId = auth.hostToken(request.headers);
        return;
      case "ws_optional":
        // Header credentials when present and valid; otherwise the socket's
        // first message authenticates (JWT only).
        if (request.headers["x-api-key"] || request.headers.authorization) {
          request.principal = await auth.keyOrJwt(request.headers).catch(() => undefined);
        }
        return;
    }
  };
}

/** The principal of an authenticated route (a programming error if the hook did not run). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new ApiError(401, "unauthorized", "authentication required");
  return request.principal;
}

/** The user of a JWT-only route. */
export function userOf(request: FastifyRequest): UserPrincipal {
  const p = principalOf(request);
  if (p.kind !== "user") throw new ApiError(401, "unauthorized", "this route needs a user token, not an API key");
  return p;
}
