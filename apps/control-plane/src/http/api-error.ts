import type { ErrorCode } from "@wrenn/api-schema";

/**
 * The control plane's REST error: an HTTP status, a stable `code` string from
 * the public catalog (`@wrenn/api-schema` error codes) and a message safe to
 * show to the caller. Serialised as `{"error":{"code","message",...extra}}`.
 */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra fields placed next to `code` and `message` (e.g. `sandbox_ids`). */
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; extra?: Readonly<Record<string, unknown>> },
  ) {
    super(message, { cause: options?.cause });
    this.status = status;
    this.code = code;
    this.extra = options?.extra;
  }
}

/** 400 `invalid_request`: the request is malformed or breaks a rule of the route. */
export const invalidRequest = (message: string): ApiError => new ApiError(400, "invalid_request", message);
/** 401 `unauthorized`: credentials are absent, invalid or expired. */
export const unauthorized = (message = "authentication required"): ApiError =>
  new ApiError(401, "unauthorized", message);
/** 403 `forbidden`: authenticated but not allowed. */
export const forbidden = (message: string): ApiError => new ApiError(403, "forbidden", message);
/** 404 `not_found`. Used also for resources of other teams, so ids cannot be probed. */
export const notFound = (message = "resource not found"): ApiError => new ApiError(404, "not_found", message);
/** 409 `conflict`. */
export const conflict = (message: string): ApiError => new ApiError(409, "conflict", message);
/** 409 `invalid_state`: the capsule (or other resource) is not in a state that allows this. */
export const invalidState = (message: string): ApiError => new ApiError(409, "invalid_state", message);
/** 413 `too_large`. */
export const tooLarge = (message: string): ApiError => new ApiError(413, "too_large", message);
/** 503 `no_hosts_available`. */
export const noHostsAvailable = (message = "no servers available — try again later"): ApiError =>
  new ApiError(503, "no_hosts_available", message);
