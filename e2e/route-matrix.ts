/**
 * Test support for the catalog-driven matrices (`authz.e2e.test.ts`,
 * `bad-input.e2e.test.ts`): turns a catalog route plus the ids of real
 * resources into a concrete request (URL with its parameters, a body valid
 * for the route's schema), sends it, checks error bodies against the error
 * catalog, and fingerprints the database so a test can prove nothing changed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  type ApiRoute,
  apiRouteList,
  ERROR_CODES,
  ID_BODY_LENGTH,
  ID_PREFIXES,
  type IdKind,
  isErrorCode,
} from "@wrenn/api-schema";
import type { ControlPlane } from "../apps/control-plane/src/control-plane.js";
import type { Queryable } from "../apps/control-plane/src/db/database.js";
import { generateInstance } from "../packages/api-schema/src/testing/example-generator.js";

/** A JSON schema node, as the catalog's TypeBox schemas are at run time. */
export type SchemaNode = Readonly<Record<string, unknown>>;

/**
 * Values for the path parameters of the matrix's requests: one id per kind of
 * public id, plus the parameters that are names rather than ids.
 */
export interface ResourceRefs {
  readonly ids: Partial<Readonly<Record<IdKind, string>>>;
  /** `:selector` of the process routes (a tag). */
  readonly selector: string;
  /** `:name` of the template routes. */
  readonly template: string;
  /** `:tag` of the host tag routes. */
  readonly hostTag: string;
  /** `:provider` of the OAuth routes. */
  readonly provider: string;
}

/** The path parameter names of a route (`/v1/capsules/:id/processes/:selector` → `id`, `selector`). */
export function pathParamNames(route: ApiRoute): string[] {
  return [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] ?? "");
}

/** The schema of one path parameter of a route. */
export function paramSchema(route: ApiRoute, name: string): SchemaNode {
  const properties = (route.schema.params?.properties ?? {}) as Readonly<Record<string, SchemaNode>>;
  const schema = properties[name];
  assert.ok(schema, `${route.operationId}: no schema for :${name}`);
  return schema;
}

/** The kind of public id a parameter schema accepts, read from its pattern's prefix; undefined for names. */
export function idKindOf(schema: SchemaNode): IdKind | undefined {
  const pattern = typeof schema["pattern"] === "string" ? schema["pattern"] : "";
  for (const [kind, prefix] of Object.entries(ID_PREFIXES)) {
    if (pattern.startsWith(`^${prefix}`)) return kind as IdKind;
  }
  return undefined;
}

/**
 * The value of a path parameter from `refs`: ids by the kind their schema
 * names, the rest by parameter name. An unknown parameter fails loudly, so a
 * new kind of route makes the matrix say what it lacks instead of skipping it.
 */
export function paramValue(route: ApiRoute, name: string, refs: ResourceRefs): string {
  const kind = idKindOf(paramSchema(route, name));
  if (kind !== undefined) {
    const id = refs.ids[kind];
    assert.ok(id, `${route.operationId}: the matrix has no ${kind} id for :${name}`);
    return id;
  }
  const byName: Readonly<Record<string, string>> = {
    selector: refs.selector,
    name: refs.template,
    tag: refs.hostTag,
    provider: refs.provider,
  };
  const value = byName[name];
  assert.ok(value !== undefined, `${route.operationId}: the matrix does not know the parameter :${name}`);
  return value;
}

/** A well-formed public id of `kind` that names nothing (a random UUID, encoded as the API encodes ids). */
export function idOfNothing(kind: IdKind): string {
  const value = BigInt(`0x${randomUUID().replaceAll("-", "")}`);
  return `${ID_PREFIXES[kind]}${value.toString(36).padStart(ID_BODY_LENGTH, "0")}`;
}

/** The route's URL with every parameter replaced (values are URL-encoded). */
export function fillUrl(route: ApiRoute, values: Readonly<Record<string, string>>): string {
  return route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = values[name];
    assert.ok(value !== undefined, `${route.operationId}: no value for :${name}`);
    return encodeURIComponent(value);
  });
}

/** The URL of a route with every parameter taken from `refs`, except those in `override`. */
export function urlFor(route: ApiRoute, refs: ResourceRefs, override: Readonly<Record<string, string>> = {}): string {
  const values: Record<string, string> = {};
  for (const name of pathParamNames(route)) values[name] = override[name] ?? paramValue(route, name, refs);
  return fillUrl(route, values);
}

/** The JSON body schema of a route (also when it is given per media type), or undefined. */
export function jsonBodySchema(route: ApiRoute): SchemaNode | undefined {
  const body = route.schema.body as SchemaNode | undefined;
  if (body === undefined) return undefined;
  const content = body["content"] as Readonly<Record<string, { schema: SchemaNode }>> | undefined;
  if (content !== undefined && body["type"] === undefined) return content["application/json"]?.schema;
  return body;
}

/** A body valid for the route's JSON schema (required fields only), with `overrides` merged on top. */
export function validJsonBody(route: ApiRoute, overrides: Readonly<Record<string, unknown>> = {}): unknown {
  const schema = jsonBodySchema(route);
  if (schema === undefined) return undefined;
  const base = generateInstance(schema, { variant: 0, optional: "none" });
  return typeof base === "object" && base !== null && !Array.isArray(base) ? { ...base, ...overrides } : base;
}

/** WebSocket routes of the catalog. */
export function isWebSocket(route: ApiRoute): boolean {
  return route.websocket !== undefined;
}

/**
 * The catalog routes the control plane serves, in catalog order. Routes of
 * the catalog that are not registered yet are returned in `missing` (the
 * tests report them and require the capsule and snapshot routes).
 */
export function servedRoutes(cp: ControlPlane): { served: ApiRoute[]; missing: ApiRoute[] } {
  const served: ApiRoute[] = [];
  const missing: ApiRoute[] = [];
  for (const route of apiRouteList) {
    (cp.app.hasRoute({ method: route.method, url: route.url }) ? served : missing).push(route);
  }
  return { served, missing };
}

/** What {@link sendRoute} sends besides the URL. */
export interface RouteRequest {
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON value (sent as `application/json`) or a FormData (sent as `multipart/form-data`). */
  readonly body?: unknown;
  /** A body sent as it is, with its content type; wins over `body`. */
  readonly raw?: { readonly contentType: string; readonly text: string };
  readonly query?: Readonly<Record<string, string>>;
}

/** Sends one request to `route` at `path` (a filled URL). */
export function sendRoute(base: string, route: ApiRoute, path: string, request: RouteRequest = {}): Promise<Response> {
  const headers = new Headers(request.headers);
  let body: RequestInit["body"];
  if (request.raw !== undefined) {
    body = request.raw.text;
    headers.set("content-type", request.raw.contentType);
  } else if (request.body instanceof FormData) body = request.body;
  else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const query = request.query === undefined ? "" : `?${new URLSearchParams(request.query)}`;
  return fetch(`${base}${path}${query}`, { method: route.method, headers, ...(body === undefined ? {} : { body }) });
}

/** A parsed error response. */
export interface ErrorReply {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * Reads a response that must be an error of the REST API: a 4xx status, the
 * `{"error":{"code","message"}}` body, and a code of the error catalog whose
 * status is the response's. `where` names the case in failure messages.
 */
export async function readErrorReply(res: Response, where: string): Promise<ErrorReply> {
  const text = await res.text();
  assert.ok(res.status >= 400 && res.status < 500, `${where}: expected a 4xx, got ${res.status} ${text.slice(0, 300)}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, `${where}: error body must be JSON`);
  const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  const { code, message } = parsed.error ?? {};
  assert.ok(typeof code === "string" && typeof message === "string" && message !== "", `${where}: body ${text}`);
  assert.ok(isErrorCode(code), `${where}: code ${code} is not in the error catalog`);
  assert.equal(ERROR_CODES[code].status, res.status, `${where}: code ${code} belongs to another status`);
  return { status: res.status, code, message };
}

/**
 * A fingerprint of every row of every table of the control plane's schema
 * (ignoring `team_api_keys.last_used`, which any authenticated request may
 * stamp): equal fingerprints mean nothing was created, changed or deleted.
 */
export async function databaseFingerprint(db: Queryable): Promise<Record<string, string>> {
  const tables = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
      ORDER BY table_name`,
  );
  const parts = tables.rows.map(
    ({ name }) =>
      `SELECT '${name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'last_used')::text, ',' ORDER BY (to_jsonb(t) - 'last_used')::text)), '') AS digest FROM "${name}" t`,
  );
  const result = await db.query<{ name: string; digest: string }>(parts.join(" UNION ALL "));
  return Object.fromEntries(result.rows.map((r) => [r.name, r.digest]));
}

/** The tables whose fingerprint differs between two {@link databaseFingerprint}s. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((name) => before[name] !== after[name]);
}
