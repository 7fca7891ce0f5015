/**
 * Test support: the reference system's OpenAPI document
 * (`shared/reference/wrenn-openapi.yaml`, beside the repository), its
 * operations, and ajv validators for its JSON schemas with `$ref`s resolved
 * against the document.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Ajv } from "ajv";
import { parse } from "yaml";
import { type Check, compileCheck, createAjv } from "./json-validator.js";

/** Where the reference document is expected: `<repo>/../shared/reference/`. */
export const REFERENCE_OPENAPI_PATH = fileURLToPath(
  new URL("../../../../../shared/reference/wrenn-openapi.yaml", import.meta.url),
);

type JsonObject = Readonly<Record<string, unknown>>;

/** One operation of the reference document. */
export interface ReferenceOperation {
  readonly method: string;
  /** OpenAPI path template, e.g. `/v1/capsules/{id}`. */
  readonly path: string;
  readonly operationId: string | undefined;
  /** JSON pointer of the operation inside the document. */
  readonly pointer: string;
  readonly operation: JsonObject;
  /** Path-level and operation-level parameters, `$ref`s resolved. */
  readonly parameters: readonly { readonly name: string; readonly in: string }[];
}

/** A response of a reference operation, `$ref`s of the response object resolved where possible. */
export interface ReferenceResponse {
  readonly status: string;
  /** `undefined` when the response object is a `$ref` that the document does not define. */
  readonly response: JsonObject | undefined;
  readonly danglingRef: string | undefined;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const DOC_ID = "wrenn-reference";

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The loaded reference document. */
export class ReferenceOpenApi {
  readonly document: JsonObject;
  readonly operations: readonly ReferenceOperation[];
  readonly #ajv: Ajv;

  constructor(path: string = REFERENCE_OPENAPI_PATH) {
    if (!existsSync(path)) {
      throw new Error(
        `The reference OpenAPI document was not found at ${path}. It is read from ` +
          "shared/reference/wrenn-openapi.yaml in the directory that contains the repository " +
          "(CI lays shared/ beside the clone); copy or link it there.",
      );
    }
    this.document = parse(readFileSync(path, "utf8")) as JsonObject;
    this.#ajv = createAjv({ strict: false });
    this.#ajv.addSchema(this.document as object, DOC_ID);
    this.operations = this.#collectOperations();
  }

  /** Resolves a local `$ref` (`#/components/...`); `undefined` when the target does not exist. */
  resolve(ref: string): JsonObject | undefined {
    if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = this.document;
    for (const raw of ref.slice(2).split("/")) {
      const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      if (typeof node !== "object" || node === null || !(segment in node)) return undefined;
      node = (node as JsonObject)[segment];
    }
    return node as JsonObject;
  }

  /** Follows `$ref`s until a schema object that is not a reference. */
  deref(node: JsonObject): JsonObject {
    let current = node;
    for (let depth = 0; typeof current["$ref"] === "string"; depth++) {
      if (depth > 32) throw new Error("$ref cycle");
      const target = this.resolve(current["$ref"]);
      if (target === undefined) throw new Error(`dangling $ref ${current["$ref"]}`);
      current = target;
    }
    return current;
  }

  /** The responses of an operation by status. */
  responses(operation: ReferenceOperation): readonly ReferenceResponse[] {
    const responses = (operation.operation["responses"] ?? {}) as JsonObject;
    return Object.entries(responses).map(([status, value]) => {
      const response = value as JsonObject;
      const ref = response["$ref"];
      if (typeof ref === "string") {
        const target = this.resolve(ref);
        return { status, response: target, danglingRef: target === undefined ? ref : undefined };
      }
      return { status, response, danglingRef: undefined };
    });
  }

  /** A validator for the schema at `pointer` (a JSON pointer into the document). */
  checkAt(pointer: string): Check {
    return compileCheck(this.#ajv, { $ref: `${DOC_ID}#${pointer}` });
  }

  /** JSON pointer of a response's media-type schema. */
  static responseSchemaPointer(operation: ReferenceOperation, status: string, mediaType: string): string {
    return `${operation.pointer}/responses/${escapePointer(status)}/content/${escapePointer(mediaType)}/schema`;
  }

  #collectOperations(): ReferenceOperation[] {
    const operations: ReferenceOperation[] = [];
    const paths = (this.document["paths"] ?? {}) as JsonObject;
    for (const [path, item] of Object.entries(paths)) {
      const pathItem = item as JsonObject;
      const shared = (pathItem["parameters"] ?? []) as readonly JsonObject[];
      for (const method of METHODS) {
        const operation = pathItem[method] as JsonObject | undefined;
        if (operation === undefined) continue;
        const own = (operation["parameters"] ?? []) as readonly JsonObject[];
        const parameters = [...shared, ...own].map((p) => {
          const resolved = this.deref(p);
          return { name: String(resolved["name"]), in: String(resolved["in"]) };
        });
        operations.push({
          method: method.toUpperCase(),
          path,
          operationId: typeof operation["operationId"] === "string" ? operation["operationId"] : undefined,
          pointer: `/paths/${escapePointer(path)}/${method}`,
          operation,
          parameters,
        });
      }
    }
    return operations;
  }
}
