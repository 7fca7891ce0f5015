/**
 * What `@fastify/swagger` needs besides the route schemas: the security
 * schemes the routes' `security` fields name, tag descriptions, and a
 * `transform` that documents the multipart request bodies Fastify itself
 * cannot validate.
 */
import type { TSchema } from "typebox";
import { apiRouteList } from "./catalog.js";
import type { ApiRoute, ApiTag, MultipartBody } from "./route.js";

/** OpenAPI security schemes, named as in the reference's document. */
export const securitySchemes = {
  apiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "A team API key (`wrn_…`), created with POST /v1/api-keys.",
  },
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A user JWT from /v1/auth/login, /v1/auth/activate or /v1/auth/switch-team (6 hours).",
  },
  hostTokenAuth: {
    type: "apiKey",
    in: "header",
    name: "X-Host-Token",
    description: "A host JWT from /v1/hosts/register or /v1/hosts/auth/refresh (7 days).",
  },
} as const;

/** Tag descriptions for the OpenAPI document, in display order. */
export const apiTags: readonly { readonly name: ApiTag; readonly description: string }[] = [
  { name: "capsules", description: "Capsules: lifecycle, commands, files, processes, terminals, metrics." },
  { name: "snapshots", description: "Templates: snapshots of capsules and base images." },
  { name: "auth", description: "Sign-up, sign-in, OAuth, team switching." },
  { name: "account", description: "The signed-in user's profile, password and linked providers." },
  { name: "api-keys", description: "Team API keys." },
  { name: "teams", description: "Teams, members and roles." },
  { name: "users", description: "User lookup." },
  { name: "hosts", description: "Hosts and their agents' registration, credentials and heartbeats." },
  { name: "channels", description: "Notification channels for capsule and host events." },
  { name: "audit", description: "Audit logs." },
  { name: "admin", description: "Platform administration (platform admins only)." },
  { name: "builds", description: "Template builds from recipes (platform admins only)." },
  { name: "health", description: "Liveness." },
];

const routesByOperationId = new Map<string, ApiRoute>(apiRouteList.map((route) => [route.operationId, route]));

function multipartSchema(multipart: MultipartBody): TSchema {
  const properties: Record<string, unknown> = { ...multipart.fields.properties };
  const required = [...(multipart.fields.required ?? [])];
  for (const file of multipart.files) {
    const limit = file.maxBytes === undefined ? "" : ` At most ${file.maxBytes} bytes.`;
    properties[file.name] = { type: "string", format: "binary", description: `${file.description}${limit}` };
    if (file.required) required.push(file.name);
  }
  return { type: "object", required, properties } as unknown as TSchema;
}

function existingContent(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body === "object" && body !== null && "content" in body) {
    return { ...(body as { content: Record<string, unknown> }).content };
  }
  return { "application/json": { schema: body } };
}

/**
 * A `transform` for `@fastify/swagger`: for routes of the catalog that take
 * `multipart/form-data`, adds that media type (text fields and file parts) to
 * the documented request body. The route's own schema is not changed, so
 * Fastify's validation is unaffected. Other routes pass through unchanged.
 */
export function openApiTransform<TInput extends { readonly schema?: unknown; readonly url: string }>(
  input: TInput,
): { schema: Record<string, unknown>; url: string } {
  const schema = (input.schema ?? {}) as Record<string, unknown>;
  const operationId = typeof schema["operationId"] === "string" ? schema["operationId"] : undefined;
  const route = operationId === undefined ? undefined : routesByOperationId.get(operationId);
  if (route?.multipart === undefined) return { schema, url: input.url };
  const content = existingContent(schema["body"]);
  content["multipart/form-data"] = { schema: multipartSchema(route.multipart) };
  return { schema: { ...schema, body: { content } }, url: input.url };
}

/**
 * `refResolver` option for `@fastify/swagger`: names the OpenAPI components
 * of shared schemas after their `$id` (`#/components/schemas/ErrorBody`)
 * instead of the default `def-0`, `def-1`, …
 */
export const openApiRefResolver = {
  buildLocalReference(json: Readonly<Record<string, unknown>>, _baseUri: unknown, _fragment: string, index: number) {
    return typeof json["$id"] === "string" ? json["$id"] : `def-${index}`;
  },
};
