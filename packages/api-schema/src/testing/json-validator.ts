/**
 * Test support: ajv validators for our schemas and for the reference's
 * OpenAPI schemas, with the formats both use. Formats are checked by small
 * local rules rather than `ajv-formats`, which is not a dependency here.
 */
import { Ajv, type ErrorObject } from "ajv";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isUri(text: string): boolean {
  try {
    return new URL(text).protocol.length > 1;
  } catch {
    return false;
  }
}

/**
 * An ajv instance with the formats the API uses. `strict` reports schema
 * mistakes (unknown keywords, contradictory types) in our own schemas; the
 * reference's OpenAPI schemas need it off (`example`, `nullable`).
 */
export function createAjv(options: { readonly strict: boolean }): Ajv {
  const ajv = new Ajv({ strict: options.strict, allErrors: true });
  ajv.addFormat("date-time", { type: "string", validate: (text) => DATE_TIME.test(text) && isDate(text.slice(0, 10)) });
  ajv.addFormat("date", { type: "string", validate: isDate });
  ajv.addFormat("email", { type: "string", validate: /^[^\s@]+@[^\s@]+\.[^\s@]+$/ });
  ajv.addFormat("uri", { type: "string", validate: isUri });
  for (const format of ["binary", "int64", "int32", "double", "float"]) ajv.addFormat(format, true);
  return ajv;
}

/** A compiled validator that returns its errors (empty when valid). */
export type Check = (value: unknown) => readonly ErrorObject[];

/** Compiles `schema` with `ajv` into a {@link Check}. */
export function compileCheck(ajv: Ajv, schema: object): Check {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : [...(validate.errors ?? [])]);
}

/** One line per error, for assertion messages. */
export function formatErrors(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`).join("; ");
}
