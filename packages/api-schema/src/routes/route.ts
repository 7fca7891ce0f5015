/**
 * The shape of one entry of the route catalog and the function that builds
 * entries. A route's `schema` is a complete Fastify route schema: validation
 * (`params`, `querystring`, `body`), response serialisation (`response`) and
 * the OpenAPI fields `@fastify/swagger` reads (`operationId`, `tags`,
 * `summary`, `description`, `security`). The control plane passes it as is.
 */
import Type, { type TObject, type TSchema } from "typebox";
import { ERROR_BODY_ID, type ErrorBody } from "../error-codes.js";
import { annotate } from "../primitives/annotate.js";

/** HTTP methods used by the API. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * How a route authenticates (inventory §2.1):
 * - `none`: public (or a credential in the body, as for host registration).
 * - `key_or_jwt`: `X-API-Key`, else `Authorization: Bearer <user JWT>`.
 * - `jwt`: a user JWT only.
 * - `admin`: a user JWT of a platform admin (re-checked in the database).
 * - `host`: `X-Host-Token: <host JWT>`.
 * - `ws_optional`: WebSocket; header credentials as `key_or_jwt` if present,
 *   else the first message must be `{"type":"auth","token":"<JWT>"}`.
 * - `admin_ws`: WebSocket; first-message JWT of a platform admin.
 */
export type AuthKind = "none" | "key_or_jwt" | "jwt" | "admin" | "host" | "ws_optional" | "admin_ws";

/** OpenAPI tags of the catalog. */
export type ApiTag =
  | "health"
  | "auth"
  | "account"
  | "api-keys"
  | "users"
  | "teams"
  | "capsules"
  | "snapshots"
  | "hosts"
  | "channels"
  | "audit"
  | "admin"
  | "builds";

/** A body or response that is not JSON, keyed by media type (Fastify's and OpenAPI's `content` form). */
export interface MediaSchemas {
  readonly description?: string;
  readonly content: Readonly<Record<string, { readonly schema: TSchema }>>;
}

/** A response schema: a JSON schema, or per-media-type schemas (e.g. `application/octet-stream`). */
export type ResponseSchema = TSchema | MediaSchemas;

/** Validation and serialisation schemas of a route, as a route definition states them. */
export interface RouteSchemas {
  readonly params?: TObject;
  readonly querystring?: TObject;
  /** A JSON body schema, or per-media-type schemas when a route also accepts another type. */
  readonly body?: TSchema | MediaSchemas;
  /** Success responses by status; the standard error responses are added by {@link defineRoutes}. */
  readonly response: Readonly<Record<number, ResponseSchema>>;
}

/** The JSON messages of a WebSocket route. */
export interface WebSocketMessages {
  /** Every message the client may send (a union discriminated by `type`). */
  readonly client: TSchema;
  /** Every message the server sends. */
  readonly server: TSchema;
}

/** A file part of a multipart request. */
export interface MultipartFilePart {
  readonly name: string;
  readonly required: boolean;
  /** Upper bound of the part's size; `undefined` for streaming routes without one. */
  readonly maxBytes: number | undefined;
  readonly description: string;
}

/**
 * A `multipart/form-data` request body. Fastify cannot validate streamed
 * multipart bodies with a JSON schema, so the control plane parses the parts
 * itself and validates the text parts against `fields`.
 */
export interface MultipartBody {
  /** The text parts, validated as one object. */
  readonly fields: TObject;
  readonly files: readonly MultipartFilePart[];
  /** Text parts must come before the first file part (streaming routes need them first). */
  readonly fieldsFirst: boolean;
}

/** What one catalog entry is written as; the catalog key becomes its `operationId`. */
export interface RouteDefinition<TSchemas extends RouteSchemas = RouteSchemas> {
  readonly method: HttpMethod;
  /** Fastify path syntax, e.g. `/v1/capsules/:id`. */
  readonly url: string;
  readonly auth: AuthKind;
  readonly tags: readonly ApiTag[];
  readonly summary: string;
  readonly description?: string;
  readonly schema: TSchemas;
  /** Route-specific error statuses, besides the standard ones added by {@link defineRoutes}. */
  readonly errors?: readonly number[];
  readonly websocket?: WebSocketMessages;
  readonly multipart?: MultipartBody;
  /**
   * Admin capsule routes that run the team handlers on the platform team's
   * capsules (the reference's `injectPlatformTeam`).
   */
  readonly platformTeam?: boolean;
}

/** Fields `@fastify/swagger` reads from a route schema. */
export interface OpenApiOperationFields {
  readonly operationId: string;
  readonly tags: readonly ApiTag[];
  readonly summary: string;
  readonly description?: string;
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
}

/**
 * One entry of the catalog. `schema.response` holds the definition's
 * responses plus the standard error responses (all {@link ErrorBody}).
 */
export interface ApiRoute<TSchemas extends RouteSchemas = RouteSchemas, TOperationId extends string = string>
  extends Omit<RouteDefinition<TSchemas>, "schema" | "errors" | "platformTeam"> {
  readonly operationId: TOperationId;
  readonly platformTeam: boolean;
  readonly schema: TSchemas & OpenApiOperationFields & { readonly response: Readonly<Record<number, ResponseSchema>> };
}

/** Security requirement objects of each auth kind (names of {@link securitySchemes}). */
export const SECURITY_BY_AUTH: Readonly<Record<AuthKind, OpenApiOperationFields["security"]>> = {
  none: [],
  key_or_jwt: [{ apiKeyAuth: [] }, { bearerAuth: [] }],
  ws_optional: [{ apiKeyAuth: [] }, { bearerAuth: [] }],
  jwt: [{ bearerAuth: [] }],
  admin: [{ bearerAuth: [] }],
  admin_ws: [{ bearerAuth: [] }],
  host: [{ hostTokenAuth: [] }],
};

const REASONS: Readonly<Record<number, string>> = {
  101: "Switching Protocols: the WebSocket is open",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  302: "Found: redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway: the host agent failed",
  503: "Service Unavailable",
};

const CREDENTIALED: readonly AuthKind[] = ["key_or_jwt", "jwt", "admin", "host"];

/**
 * Error statuses every route of this shape can answer: 400 when it takes
 * input, 413/415 when it reads a body (size limit, Content-Type), 401/403 when
 * it checks header credentials, 500 always.
 */
function standardErrors(definition: RouteDefinition): number[] {
  const statuses: number[] = [500];
  const { schema } = definition;
  const hasBody = schema.body !== undefined || definition.multipart !== undefined;
  if (schema.params || schema.querystring || hasBody) statuses.push(400);
  if (hasBody) statuses.push(413, 415);
  if (CREDENTIALED.includes(definition.auth)) statuses.push(401, 403);
  return statuses;
}

/** An error response: a reference to the shared {@link ErrorBody} schema (see `sharedSchemas`). */
function errorResponse(description: string): TSchema {
  return Type.Unsafe<ErrorBody>({ $ref: `${ERROR_BODY_ID}#`, description });
}

function describeResponse(status: number, schema: ResponseSchema): ResponseSchema {
  if ("description" in schema && typeof schema.description === "string") return schema;
  const description = REASONS[status] ?? `HTTP ${status}`;
  if ("content" in schema && !("type" in schema)) return { ...schema, description };
  return annotate(schema as TSchema, { description });
}

function buildRoute(operationId: string, definition: RouteDefinition): ApiRoute {
  const response: Record<number, ResponseSchema> = {};
  for (const [status, schema] of Object.entries(definition.schema.response)) {
    response[Number(status)] = describeResponse(Number(status), schema);
  }
  for (const status of [...standardErrors(definition), ...(definition.errors ?? [])]) {
    response[status] ??= errorResponse(REASONS[status] ?? `HTTP ${status}`);
  }
  const { errors: _errors, platformTeam, schema, ...rest } = definition;
  // Not frozen: Fastify marks and normalises the schema objects it is given.
  return {
    ...rest,
    operationId,
    platformTeam: platformTeam ?? false,
    schema: {
      ...schema,
      response,
      operationId,
      tags: definition.tags,
      summary: definition.summary,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      security: SECURITY_BY_AUTH[definition.auth],
    },
  };
}

/** The catalog entries built from definitions keyed by operationId. */
export type ApiRoutes<TDefinitions extends Readonly<Record<string, RouteDefinition>>> = {
  readonly [TKey in keyof TDefinitions & string]: ApiRoute<TDefinitions[TKey]["schema"], TKey>;
};

/**
 * Builds catalog entries from definitions keyed by operationId, adding the
 * standard error responses, response descriptions and OpenAPI fields. The
 * static types of every schema are kept, so Fastify's TypeBox type provider
 * types each handler's request and reply.
 */
export function defineRoutes<const TDefinitions extends Readonly<Record<string, RouteDefinition>>>(
  definitions: TDefinitions,
): ApiRoutes<TDefinitions> {
  const routes: Record<string, ApiRoute> = {};
  for (const [operationId, definition] of Object.entries(definitions)) {
    routes[operationId] = buildRoute(operationId, definition);
  }
  return routes as ApiRoutes<TDefinitions>;
}
