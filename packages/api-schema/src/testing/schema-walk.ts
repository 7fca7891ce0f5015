/**
 * Test support: walking a reference (OpenAPI) schema and one of ours side by
 * side, to find properties the reference documents that ours lacks, and the
 * reference's `example` values with the path where they apply.
 */
import type { ReferenceOpenApi } from "./reference-openapi.js";

type JsonObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The properties of a reference schema node, merging `allOf` branches. */
function referenceProperties(reference: ReferenceOpenApi, node: JsonObject): Map<string, JsonObject> {
  const result = new Map<string, JsonObject>();
  const resolved = reference.deref(node);
  for (const branch of (resolved["allOf"] ?? []) as JsonObject[]) {
    for (const [name, schema] of referenceProperties(reference, branch)) result.set(name, schema);
  }
  for (const [name, schema] of Object.entries((resolved["properties"] ?? {}) as JsonObject)) {
    result.set(name, schema as JsonObject);
  }
  return result;
}

/** Our sub-schemas reachable by one step (`name` property, or `*` for array items), across `anyOf`. */
function ourChildren(node: unknown, step: string): JsonObject[] {
  if (!isObject(node)) return [];
  const branches = Array.isArray(node["anyOf"]) ? (node["anyOf"] as unknown[]) : [node];
  const found: JsonObject[] = [];
  for (const branch of branches) {
    if (!isObject(branch)) continue;
    if (step === "*") {
      if (isObject(branch["items"])) found.push(branch["items"]);
    } else {
      const properties = branch["properties"];
      if (isObject(properties) && isObject(properties[step])) found.push(properties[step] as JsonObject);
      const patterns = branch["patternProperties"];
      if (isObject(patterns)) for (const value of Object.values(patterns)) if (isObject(value)) found.push(value);
    }
  }
  return found;
}

/** Our sub-schema at a path like `/entries/*\/name`, or `undefined` if ours has no such place. */
export function ourSchemaAt(ours: unknown, path: string): JsonObject | undefined {
  let nodes: JsonObject[] = isObject(ours) ? [ours] : [];
  for (const step of path.split("/").filter((s) => s !== "")) {
    nodes = nodes.flatMap((node) => ourChildren(node, step));
  }
  return nodes[0];
}

/**
 * Paths of properties the reference schema documents and ours lacks, e.g.
 * `/items/*\/secret`. Clients of the reference read those fields, so each one
 * must be explained.
 */
export function missingProperties(reference: ReferenceOpenApi, refSchema: JsonObject, ours: unknown): string[] {
  const missing: string[] = [];
  const walk = (refNode: JsonObject, ourNodes: JsonObject[], path: string, depth: number): void => {
    if (depth > 16) return;
    const resolved = reference.deref(refNode);
    for (const [name, child] of referenceProperties(reference, resolved)) {
      const ourChild = ourNodes.flatMap((node) => ourChildren(node, name));
      if (ourChild.length === 0) missing.push(`${path}/${name}`);
      else walk(child, ourChild, `${path}/${name}`, depth + 1);
    }
    if (isObject(resolved["items"])) {
      walk(
        resolved["items"],
        ourNodes.flatMap((node) => ourChildren(node, "*")),
        `${path}/*`,
        depth + 1,
      );
    }
  };
  walk(refSchema, isObject(ours) ? [ours] : [], "", 0);
  return missing;
}

/** Every `example` (and `examples` entry) in a reference schema, with its path. */
export function referenceExamples(
  reference: ReferenceOpenApi,
  refSchema: JsonObject,
): { readonly path: string; readonly value: unknown }[] {
  const found: { path: string; value: unknown }[] = [];
  const walk = (node: JsonObject, path: string, depth: number): void => {
    if (depth > 16) return;
    const resolved = reference.deref(node);
    if ("example" in resolved) found.push({ path, value: resolved["example"] });
    if (Array.isArray(resolved["examples"])) for (const value of resolved["examples"]) found.push({ path, value });
    for (const [name, child] of referenceProperties(reference, resolved)) walk(child, `${path}/${name}`, depth + 1);
    if (isObject(resolved["items"])) walk(resolved["items"], `${path}/*`, depth + 1);
  };
  walk(refSchema, "", 0);
  return found;
}

/** Names of the reference object's `required` list (merging `allOf`). */
export function referenceRequired(reference: ReferenceOpenApi, refSchema: JsonObject): Set<string> {
  const resolved = reference.deref(refSchema);
  const names = new Set<string>((resolved["required"] ?? []) as string[]);
  for (const branch of (resolved["allOf"] ?? []) as JsonObject[]) {
    for (const name of referenceRequired(reference, branch)) names.add(name);
  }
  return names;
}
