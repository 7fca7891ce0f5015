import { Ajv, type Options } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from "fastify";

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };

/**
 * Two validators: query strings, path params and headers are text on the wire,
 * so they are coerced to the schema's types; JSON bodies are not — `"name": 5`
 * is an error, not the string "5" (Fastify's default coerces bodies too).
 */
export function installValidators(app: FastifyInstance): void {
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: "array" }));
  const exact = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const compiler: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) => {
    const ajv = httpPart === "body" ? exact : coercing;
    return ajv.compile(schema as object);
  };
  app.setValidatorCompiler(compiler);
}
