/**
 * Bad-input cases of one catalog route, derived from its schemas: each
 * required body field dropped, each field given values its schema refuses
 * (wrong type, out of range, too long, breaking the pattern or format), extra
 * fields where the body is closed, bad query values, malformed and unknown
 * path parameters, and bodies that are not JSON, not the right media type or
 * over the size limit. Every schema-derived case is checked against the
 * schema locally first, so a case that is in fact valid is never sent.
 */
import type { ApiRoute } from "@wrenn/api-schema";
import { Ajv } from "ajv";
import { createAjv } from "../packages/api-schema/src/testing/json-validator.js";
import { idKindOf, idOfNothing, jsonBodySchema, paramSchema, pathParamNames, type SchemaNode } from "./route-matrix.js";

/**
 * Put into every bad value, so a test can check that error messages never
 * echo request values back.
 */
export const MARKER = "BADVALUE";

/** One request a route must refuse. */
export interface BadCase {
  /** E.g. `body.vcpus = "BADVALUE"`. */
  readonly name: string;
  /** Statuses the route may answer with (all 4xx). */
  readonly expect: readonly number[];
  /** Path parameters replacing the valid ones. */
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON value sent as `application/json`. */
  readonly body?: unknown;
  /** A body sent as is, with its content type (non-JSON, wrong type, too large). */
  readonly raw?: { readonly contentType: string; readonly text: string };
  /** WebSocket messages sent once the socket is open (strings as they are). */
  readonly messages?: readonly unknown[];
}

const INVALID = [400];
/** A well-formed id or name of nothing: not found, or refused because it is not the caller's. */
const UNKNOWN = [403, 404];

// Bodies are validated without coercion, queries and params with it, as the control plane does.
const exactAjv = createAjv({ strict: false });
const coercingAjv = new Ajv({ strict: false, coerceTypes: "array", allErrors: true });
coercingAjv.addFormat("date", { type: "string", validate: (text: string) => !Number.isNaN(Date.parse(text)) });
coercingAjv.addFormat("date-time", { type: "string", validate: (text: string) => !Number.isNaN(Date.parse(text)) });
const compiled = new WeakMap<object, (value: unknown) => boolean>();

function accepts(schema: SchemaNode, value: unknown, coerce: boolean): boolean {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    const fn = (coerce ? coercingAjv : exactAjv).compile(schema);
    validate = (v: unknown) => fn(v) === true;
    compiled.set(schema, validate);
  }
  return validate(structuredClone(value));
}

function number(schema: SchemaNode, key: string): number | undefined {
  const value = schema[key];
  return typeof value === "number" ? value : undefined;
}

/** Values `schema` is likely to refuse; the caller keeps only those it does. */
function candidateValues(schema: SchemaNode): unknown[] {
  const values: unknown[] = [12345, MARKER, true, null, [MARKER], { NAME: 12345 }, 1.5];
  const min = number(schema, "minimum");
  const max = number(schema, "maximum");
  if (min !== undefined) values.push(min - 1);
  if (max !== undefined) values.push(max + 1);
  const maxLength = number(schema, "maxLength");
  if (maxLength !== undefined) values.push(`${MARKER}${"x".repeat(maxLength)}`);
  if (number(schema, "minLength") !== undefined) values.push("");
  if (typeof schema["pattern"] === "string" || typeof schema["format"] === "string") values.push(`${MARKER} /*?`);
  const maxItems = number(schema, "maxItems");
  if (maxItems !== undefined) values.push(Array.from({ length: maxItems + 1 }, () => "x"));
  const maxProperties = number(schema, "maxProperties");
  if (maxProperties !== undefined) {
    values.push(Object.fromEntries(Array.from({ length: maxProperties + 1 }, (_, i) => [`NAME${i}`, "x"])));
  }
  return values;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Cases of a JSON body: not an object, required fields missing, fields with refused values, extra fields. */
export function bodyCases(route: ApiRoute, base: Readonly<Record<string, unknown>>): BadCase[] {
  const schema = jsonBodySchema(route);
  if (schema === undefined || schema["type"] !== "object") return [];
  const cases: BadCase[] = [];
  const add = (name: string, body: unknown) => {
    if (!accepts(schema, body, false)) cases.push({ name, expect: INVALID, body });
  };
  for (const body of [[], MARKER, 12345, null]) add(`body = ${show(body)}`, body);
  for (const field of (schema["required"] ?? []) as string[]) {
    const { [field]: _dropped, ...rest } = base;
    add(`body without ${field}`, rest);
  }
  const properties = (schema["properties"] ?? {}) as Readonly<Record<string, SchemaNode>>;
  for (const [field, fieldSchema] of Object.entries(properties)) {
    for (const value of candidateValues(fieldSchema))
      add(`body.${field} = ${show(value)}`, { ...base, [field]: value });
  }
  if (schema["additionalProperties"] === false) add("body with an unknown field", { ...base, [MARKER]: 1 });
  return cases;
}

/** Cases of the query string: each parameter with values its schema refuses. */
export function queryCases(route: ApiRoute): BadCase[] {
  const schema = route.schema.querystring as SchemaNode | undefined;
  if (schema === undefined) return [];
  const cases: BadCase[] = [];
  const properties = (schema["properties"] ?? {}) as Readonly<Record<string, SchemaNode>>;
  for (const [name, propertySchema] of Object.entries(properties)) {
    const values = [MARKER, "1.5", "-1", "", ...candidateValues(propertySchema).filter((v) => typeof v !== "object")];
    for (const value of new Set(values.map(String))) {
      if (!accepts(schema, { [name]: value }, true)) {
        cases.push({ name: `query ${name}=${show(value)}`, expect: INVALID, query: { [name]: value } });
      }
    }
  }
  return cases;
}

/** Cases of the path parameters: malformed values (400) and well-formed values of nothing (403/404). */
export function paramCases(route: ApiRoute, unknownName: (param: string) => string): BadCase[] {
  const cases: BadCase[] = [];
  for (const name of pathParamNames(route)) {
    const schema = paramSchema(route, name);
    for (const value of [MARKER.toLowerCase(), `${MARKER}.${"x".repeat(64)}`, `${MARKER}*`]) {
      if (!accepts(schema, value, true)) {
        cases.push({ name: `:${name} = ${show(value)}`, expect: INVALID, params: { [name]: value } });
      }
    }
    const kind = idKindOf(schema);
    const unknown = kind === undefined ? unknownName(name) : idOfNothing(kind);
    cases.push({ name: `:${name} of nothing (${unknown})`, expect: UNKNOWN, params: { [name]: unknown } });
  }
  return cases;
}

/** Cases of the body's encoding: not JSON, empty, the wrong media type, over the 1 MiB limit. */
export function contentCases(route: ApiRoute): BadCase[] {
  if (jsonBodySchema(route) === undefined) return [];
  return [
    {
      name: "JSON content type, text body",
      expect: INVALID,
      raw: { contentType: "application/json", text: `{${MARKER}` },
    },
    { name: "JSON content type, empty body", expect: INVALID, raw: { contentType: "application/json", text: "" } },
    { name: "text/plain body", expect: [415], raw: { contentType: "text/plain", text: MARKER } },
    {
      name: "body over 1 MiB",
      expect: [413],
      raw: { contentType: "application/json", text: JSON.stringify({ pad: "x".repeat(1024 * 1024 + 1) }) },
    },
  ];
}

/** Cases of a multipart upload route: a JSON body, a garbled form, parts missing or refused. */
export function multipartCases(route: ApiRoute, validPath: string): BadCase[] {
  if (route.multipart === undefined || jsonBodySchema(route) !== undefined) return [];
  const form = (parts: Readonly<Record<string, string>>, withFile: boolean) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(parts)) data.set(name, value);
    if (withFile) data.set("file", new Blob([MARKER]), "file.txt");
    return data;
  };
  return [
    { name: "JSON instead of multipart", expect: [415], body: { path: validPath } },
    {
      name: "garbled multipart",
      expect: INVALID,
      raw: { contentType: "multipart/form-data; boundary=xyz", text: `--xyz\r\n${MARKER}` },
    },
    { name: "multipart without path", expect: INVALID, body: form({}, true) },
    { name: "multipart without file", expect: INVALID, body: form({ path: validPath }, false) },
    { name: "multipart with an empty path", expect: INVALID, body: form({ path: "" }, true) },
    { name: "multipart with a path over 4096", expect: INVALID, body: form({ path: `/${"x".repeat(4096)}` }, true) },
  ];
}

/** True when a union schema has a branch whose `type` is the literal `type`. */
function hasMessageType(schema: SchemaNode, type: string): boolean {
  const branches = (schema["anyOf"] ?? [schema]) as readonly SchemaNode[];
  return branches.some(
    (b) => ((b["properties"] as SchemaNode | undefined)?.["type"] as SchemaNode)?.["const"] === type,
  );
}

/**
 * First messages a WebSocket route must refuse (routes whose client opens
 * with a `start` message): not JSON, no type, an unknown type, a start with
 * a field of the wrong type. Each is checked against the route's client
 * message schema.
 */
export function messageCases(route: ApiRoute): BadCase[] {
  const client = route.websocket?.client as SchemaNode | undefined;
  if (client === undefined || !hasMessageType(client, "start")) return [];
  const candidates: unknown[] = [{}, { type: MARKER }, { type: "start", cmd: 12345 }, { type: "start", cols: MARKER }];
  const cases: BadCase[] = [{ name: "first message not JSON", expect: INVALID, messages: [`{${MARKER}`] }];
  for (const message of candidates) {
    if (!accepts(client, message, false)) {
      cases.push({ name: `first message ${show(message)}`, expect: INVALID, messages: [message] });
    }
  }
  return cases;
}
