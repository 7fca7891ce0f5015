/**
 * Plain-`fetch` calls for route tests, with checks that a response matches
 * the route catalog: success bodies against the route's response schema,
 * errors against the shared error body and the error-code catalog.
 */
import assert from "node:assert/strict";
import { type ApiOperationId, apiRoutes, ERROR_CODES, ErrorBody, isErrorCode } from "@wrenn/api-schema";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
const compiled = new Map<string, ValidateFunction>();
const validateError = ajv.compile(ErrorBody);

/** What a call returned. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or `undefined` for an empty body. */
  readonly body: unknown;
}

/** How to make a call. */
export interface CallOptions {
  /** A user JWT, sent as `Authorization: Bearer`. */
  readonly token?: string;
  readonly apiKey?: string;
  /** JSON-encoded as the body. */
  readonly json?: unknown;
  /** Sent as is (with `Content-Type: application/json` unless headers say otherwise). */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
}

/** One request to the app at `base`. Redirects are not followed. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  if (options.apiKey !== undefined) headers["x-api-key"] = options.apiKey;
  let body: string | undefined;
  if (options.json !== undefined || options.raw !== undefined) {
    body = options.raw ?? JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, { method, headers, body, redirect: "manual" });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

/** Asserts a success status and that the body matches the catalog's schema for it; returns the body. */
export function expectOk<T = Record<string, unknown>>(
  res: ApiResponse,
  operationId: ApiOperationId,
  status: number,
): T {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  const schema = apiRoutes[operationId].schema.response[status];
  assert.ok(schema !== undefined, `${operationId} declares no ${status} response`);
  if (status === 204) {
    assert.equal(res.body, undefined, "204 has no body");
    return undefined as T;
  }
  const key = `${operationId}:${status}`;
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  assert.ok(validate(res.body), `${operationId} ${status} body off-schema: ${ajv.errorsText(validate.errors)}`);
  return res.body as T;
}

/** Asserts an error response with this status and code, in the shared error body. */
export function expectError(res: ApiResponse, status: number, code: string): string {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.ok(validateError(res.body), `error body off-schema: ${JSON.stringify(res.body)}`);
  const error = (res.body as { error: { code: string; message: string } }).error;
  assert.equal(error.code, code);
  assert.ok(isErrorCode(code) && ERROR_CODES[code].status === status, `${code} is catalogued with ${status}`);
  return error.message;
}
