/**
 * Checks live responses against the reference system's OpenAPI document
 * (`shared/reference/wrenn-openapi.yaml`): the acceptance rule "every JSON
 * response of the tested endpoints validates where the reference has the route".
 */
import assert from "node:assert/strict";
import { formatErrors } from "../packages/api-schema/src/testing/json-validator.js";
import { ReferenceOpenApi } from "../packages/api-schema/src/testing/reference-openapi.js";

let reference: ReferenceOpenApi | undefined;

/** Responses checked so far, by "METHOD path status" (so a suite can assert its coverage). */
export const checkedResponses = new Set<string>();

/**
 * Asserts that `body` (the parsed JSON of a response) matches the reference's
 * schema for `method path status`. Routes or statuses the reference does not
 * describe are reported as failures too: callers only check routes it has.
 */
export function assertMatchesReference(method: string, path: string, status: number, body: unknown): void {
  reference ??= new ReferenceOpenApi();
  const op = reference.operations.find((o) => o.method === method.toUpperCase() && o.path === path);
  assert.ok(op, `the reference has no ${method} ${path}`);
  const pointer = ReferenceOpenApi.responseSchemaPointer(op, String(status), "application/json");
  const errors = reference.checkAt(pointer)(body);
  assert.deepEqual(errors, [], `${method} ${path} ${status} differs from the reference: ${formatErrors(errors)}`);
  checkedResponses.add(`${method.toUpperCase()} ${path} ${status}`);
}

/** Reads a JSON response, asserts its status, checks it against the reference, returns it. */
export async function referenceJson<T>(res: Response, method: string, path: string, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as T;
  assertMatchesReference(method, path, status, body);
  return body;
}
