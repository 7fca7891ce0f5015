/**
 * Test support: replaces the catalog's `$ref`s to shared schemas (see
 * `sharedSchemas`) with the schemas themselves, as Fastify resolves them,
 * so tools that take one self-contained schema can walk error responses too.
 */
import { sharedSchemas } from "../routes/catalog.js";

const byRef = new Map<string, object>(
  sharedSchemas.map((schema) => {
    const { $id: id, ...rest } = schema as { $id: string };
    return [`${id}#`, rest];
  }),
);

/** `schema` with shared `$ref`s inlined (siblings such as `description` kept); other nodes untouched. */
export function inlineSharedRefs<TValue>(schema: TValue): TValue {
  if (Array.isArray(schema)) return schema.map((item) => inlineSharedRefs(item)) as TValue;
  if (typeof schema !== "object" || schema === null) return schema;
  const record = schema as Record<string, unknown>;
  const target = typeof record["$ref"] === "string" ? byRef.get(record["$ref"]) : undefined;
  if (target !== undefined) {
    const { $ref: _ref, ...siblings } = record;
    return { ...structuredClone(target), ...siblings } as TValue;
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) result[key] = inlineSharedRefs(value);
  return result as TValue;
}
