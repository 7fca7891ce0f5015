/**
 * Test support: a small deterministic generator of instances of a JSON
 * Schema, for the subset the API's schemas use (objects, records, arrays,
 * unions of literals, strings with formats, numbers, booleans, null).
 *
 * Strings with a `pattern` are never guessed: the schema must carry
 * `examples`, and the generator cycles through them. That keeps the
 * generator tiny and forces every patterned field to be documented with a
 * valid example (the tests validate each instance against its own schema).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Readonly<Record<string, unknown>>;

/** How an instance is generated. */
export interface GenerateOptions {
  /**
   * Index of the alternative to take wherever there is a choice (`anyOf`,
   * `enum`, `examples`, booleans), modulo the number of alternatives. Walking
   * `variant` from 0 to {@link maxAlternatives} covers every alternative.
   */
  readonly variant: number;
  /** Whether optional object properties are included. */
  readonly optional: "all" | "none";
}

const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  "date-time": "2026-05-02T10:15:30Z",
  date: "2026-05-02",
  email: "alice@example.com",
  uri: "https://example.com/path",
  binary: "",
};

function pick<T>(items: readonly T[], variant: number): T {
  const item = items[variant % items.length];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

function asSchema(value: unknown, path: string): Schema {
  if (typeof value !== "object" || value === null) throw new Error(`not a schema at ${path || "/"}`);
  return value as Schema;
}

function generateString(schema: Schema, options: GenerateOptions, path: string): string {
  const format = typeof schema["format"] === "string" ? schema["format"] : undefined;
  if (format !== undefined && FORMAT_EXAMPLES[format] !== undefined) return FORMAT_EXAMPLES[format];
  if (schema["pattern"] !== undefined) {
    throw new Error(`string at ${path || "/"} has a pattern but no examples: add examples to the schema`);
  }
  const min = typeof schema["minLength"] === "number" ? schema["minLength"] : 0;
  const max = typeof schema["maxLength"] === "number" ? schema["maxLength"] : Number.POSITIVE_INFINITY;
  const text = `text-${options.variant}`.padEnd(min, "x");
  return text.slice(0, Math.max(min, Math.min(max, text.length)));
}

function generateNumber(schema: Schema, integer: boolean): number {
  const min = typeof schema["minimum"] === "number" ? schema["minimum"] : undefined;
  const max = typeof schema["maximum"] === "number" ? schema["maximum"] : undefined;
  let value = min ?? (max !== undefined ? Math.min(0, max) : 0);
  if (!integer && max !== undefined && min !== undefined && max > min) value = (min + max) / 2;
  return integer ? Math.ceil(value) : value;
}

function generateObject(schema: Schema, options: GenerateOptions, path: string): Json {
  const result: { [key: string]: Json } = {};
  const properties = (schema["properties"] ?? {}) as Readonly<Record<string, unknown>>;
  const required = new Set((schema["required"] ?? []) as readonly string[]);
  for (const [name, property] of Object.entries(properties)) {
    if (!required.has(name) && options.optional === "none") continue;
    result[name] = generateAt(property, options, `${path}/${name}`);
  }
  const patterns = schema["patternProperties"] as Readonly<Record<string, unknown>> | undefined;
  if (patterns !== undefined && Object.keys(properties).length === 0) {
    // A record without examples: one entry under a neutral key.
    const [, valueSchema] = Object.entries(patterns)[0] ?? [];
    if (valueSchema !== undefined) result["key"] = generateAt(valueSchema, options, `${path}/key`);
  }
  return result;
}

function generateAt(value: unknown, options: GenerateOptions, path: string): Json {
  const schema = asSchema(value, path);
  if ("const" in schema) return schema["const"] as Json;
  if (Array.isArray(schema["enum"])) return pick(schema["enum"] as Json[], options.variant);
  if (Array.isArray(schema["examples"]) && schema["examples"].length > 0) {
    return structuredClone(pick(schema["examples"] as Json[], options.variant));
  }
  if (Array.isArray(schema["anyOf"])) return generateAt(pick(schema["anyOf"], options.variant), options, path);
  switch (schema["type"]) {
    case "object":
      return generateObject(schema, options, path);
    case "array": {
      const min = typeof schema["minItems"] === "number" ? schema["minItems"] : 0;
      const count = Math.max(min, 1);
      return Array.from({ length: count }, (_, index) =>
        generateAt(schema["items"], { ...options, variant: options.variant + index }, `${path}/${index}`),
      );
    }
    case "string":
      return generateString(schema, options, path);
    case "integer":
      return generateNumber(schema, true);
    case "number":
      return generateNumber(schema, false);
    case "boolean":
      return options.variant % 2 === 0;
    case "null":
      return null;
    case undefined:
      // `{}` (unknown): any JSON value will do.
      return "value";
    default:
      throw new Error(`unsupported schema type ${String(schema["type"])} at ${path || "/"}`);
  }
}

/** One instance of `schema` (see {@link GenerateOptions}). */
export function generateInstance(schema: unknown, options: GenerateOptions): Json {
  return generateAt(schema, options, "");
}

/** The largest number of alternatives at any choice point of `schema` (at least 1). */
export function maxAlternatives(schema: unknown): number {
  let max = 1;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const record = node as Schema;
    for (const key of ["anyOf", "enum", "examples"] as const) {
      const list = record[key];
      if (Array.isArray(list)) max = Math.max(max, list.length);
    }
    if (record["type"] === "boolean") max = Math.max(max, 2);
    for (const [key, child] of Object.entries(record)) {
      if (key !== "examples" && key !== "enum" && key !== "const" && key !== "default") visit(child);
    }
  };
  visit(schema);
  return max;
}

/**
 * Representative instances of `schema`: one with only required properties,
 * and one with every property per alternative index, so every enum value,
 * union branch and example appears at least once. Deterministic.
 */
export function generateExamples(schema: unknown): Json[] {
  const instances: Json[] = [generateInstance(schema, { variant: 0, optional: "none" })];
  const count = maxAlternatives(schema);
  for (let variant = 0; variant < count; variant++) {
    instances.push(generateInstance(schema, { variant, optional: "all" }));
  }
  return instances;
}
