import type { TSchema } from "typebox";

/**
 * Returns a copy of `schema` with extra JSON Schema annotations (`description`,
 * `examples`, …). TypeBox keeps its own bookkeeping in non-enumerable
 * properties, which a plain object spread would drop; this copies every
 * property descriptor, so the result is still a TypeBox type with the same
 * static type. The original is left untouched because schemas are shared
 * between routes.
 */
export function annotate<TType extends TSchema>(schema: TType, annotations: Readonly<Record<string, unknown>>): TType {
  const copy = Object.create(Object.getPrototypeOf(schema), Object.getOwnPropertyDescriptors(schema)) as TType;
  for (const [key, value] of Object.entries(annotations)) {
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
