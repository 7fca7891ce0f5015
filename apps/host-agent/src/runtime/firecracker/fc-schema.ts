/**
 * Test support: Firecracker's own OpenAPI (Swagger 2.0) schema, compiled with ajv, to check
 * every request body the driver can produce. Firecracker's server denies unknown fields
 * (serde `deny_unknown_fields`) although the YAML does not say so, so `strict` adds
 * `additionalProperties: false` to every object definition that lists its properties.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";

/**
 * Where the schema is: $WRENN_FC_SCHEMA, else a copy beside this file, else the shared
 * reference folder next to the repository.
 */
export const FC_SCHEMA_PATH =
  process.env["WRENN_FC_SCHEMA"] ??
  [
    fileURLToPath(new URL("./firecracker-api.yaml", import.meta.url)),
    fileURLToPath(new URL("../../../../../../shared/reference/firecracker-api.yaml", import.meta.url)),
  ].find((p) => existsSync(p)) ??
  "firecracker-api.yaml";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One operation of the schema. */
export interface FcOperation {
  readonly method: string;
  readonly template: string;
  /** Definition name of the body, if the operation takes one. */
  readonly bodyDefinition: string | undefined;
  readonly bodyRequired: boolean;
}

/** The compiled schema. */
export class FcSchema {
  readonly definitions: Readonly<Record<string, { properties?: Record<string, unknown>; required?: string[] }>>;
  readonly operations: readonly FcOperation[];
  readonly #ajv: Ajv;

  constructor(path: string = FC_SCHEMA_PATH, opts: { strict?: boolean } = {}) {
    if (!existsSync(path)) {
      throw new Error(
        `Firecracker's API schema was not found (${path}): it is read from shared/reference/firecracker-api.yaml ` +
          "beside the repository; set WRENN_FC_SCHEMA to its path elsewhere",
      );
    }
    const doc = parse(readFileSync(path, "utf8")) as { definitions: Record<string, Json>; paths: Record<string, Json> };
    const defs = clean(doc.definitions, opts.strict ?? true) as Record<string, Json>;
    this.definitions = defs as FcSchema["definitions"];
    // Swagger-only keywords (x-*, format "int64", example) are stripped by clean(); the rest is draft-07.
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    this.#ajv.addSchema({ $id: "fc", definitions: defs });
    this.operations = operationsOf(doc.paths);
  }

  /** A validator for definition `name` (e.g. "NetworkInterface"). */
  validator(name: string): ValidateFunction {
    const v = this.#ajv.getSchema(`fc#/definitions/${name}`);
    if (!v) throw new Error(`no definition ${name} in the Firecracker schema`);
    return v;
  }

  /** The operation serving `method path`, matching `{param}` templates. */
  operation(method: string, path: string): FcOperation | undefined {
    return this.operations.find((o) => o.method === method.toLowerCase() && templateRegex(o.template).test(path));
  }

  /** Validates a request; returns a list of problems (empty = valid). */
  check(req: { method: string; path: string; body?: unknown }): string[] {
    const op = this.operation(req.method, req.path);
    if (!op) return [`no operation ${req.method} ${req.path} in the schema`];
    if (!op.bodyDefinition) return req.body === undefined ? [] : [`${req.method} ${req.path} takes no body`];
    if (req.body === undefined) return op.bodyRequired ? [`${req.method} ${req.path} needs a body`] : [];
    const v = this.validator(op.bodyDefinition);
    if (v(req.body)) return [];
    return (v.errors ?? []).map(
      (e) => `${op.bodyDefinition}${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
    );
  }
}

function templateRegex(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${escaped}$`);
}

function operationsOf(paths: Record<string, Json>): FcOperation[] {
  const out: FcOperation[] = [];
  for (const [template, item] of Object.entries(paths)) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== "object" || op === null || Array.isArray(op)) continue;
      const params = Array.isArray(op["parameters"]) ? op["parameters"] : [];
      const body = params.find((p) => typeof p === "object" && p !== null && !Array.isArray(p) && p["in"] === "body");
      let bodyDefinition: string | undefined;
      let bodyRequired = false;
      if (body && typeof body === "object" && !Array.isArray(body)) {
        const schema = body["schema"];
        const ref = schema && typeof schema === "object" && !Array.isArray(schema) ? schema["$ref"] : undefined;
        if (typeof ref === "string") bodyDefinition = ref.replace("#/definitions/", "");
        bodyRequired = body["required"] === true;
      }
      out.push({ method, template, bodyDefinition, bodyRequired });
    }
  }
  return out;
}

/** Strips Swagger-only keywords and (strict) closes objects; rewrites refs to the `fc` schema id. */
function clean(node: Json, strict: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => clean(n, strict));
  if (typeof node !== "object" || node === null) return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("x-") || k === "format" || k === "example") continue;
    if (k === "$ref" && typeof v === "string") {
      out[k] = v.replace("#/definitions/", "fc#/definitions/");
      continue;
    }
    // "properties" maps names to schemas: clean each schema, keep every name.
    if (k === "properties" && typeof v === "object" && v !== null && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, clean(pv, strict)]));
      continue;
    }
    out[k] = clean(v, strict);
  }
  if (strict && out["type"] === "object" && "properties" in out && !("additionalProperties" in out)) {
    out["additionalProperties"] = false;
  }
  return out;
}
