import type { FastifyError, FastifyInstance } from "fastify";
import { ApiError } from "./api-error.js";

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly [extra: string]: unknown };
}

/** Builds the wire body of an {@link ApiError}. */
export function errorBody(error: ApiError): ErrorBody {
  return { error: { ...error.extra, code: error.code, message: error.message } };
}

/**
 * Translates anything a route throws into the REST error body. Fastify's own
 * errors (validation, body limits, bad JSON, media types) become 4xx with the
 * catalog's codes; anything unexpected is logged with its cause and answered
 * with a 500 that carries no internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500) request.log.error({ err }, "request failed");
    else request.log.info({ code: apiError.code, status: apiError.status }, "request rejected");
    if (reply.sent || reply.raw.headersSent) return;
    const retryAfter = apiError.extra?.["retry_after_sec"];
    if (typeof retryAfter === "number") void reply.header("retry-after", String(retryAfter));
    void reply.code(apiError.status).type("application/json").send(errorBody(apiError));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type("application/json")
      .send(errorBody(new ApiError(404, "not_found", `no route for ${request.method} ${request.url.split("?")[0]}`)));
  });
}

/** Maps a thrown value to an {@link ApiError}; exported for WebSocket handlers. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isFastifyError(err)) {
    if (err.validation !== undefined) {
      return new ApiError(400, "invalid_request", validationMessage(err));
    }
    switch (err.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return new ApiError(413, "too_large", "request body is too large");
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return new ApiError(415, "unsupported_media_type", "unsupported Content-Type for this route");
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return new ApiError(400, "invalid_request", "request body must not be empty");
      case "FST_ERR_CTP_INVALID_JSON_BODY":
        return new ApiError(400, "invalid_request", "request body is not valid JSON");
      default:
        break;
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return new ApiError(err.statusCode, "invalid_request", "invalid request");
    }
    if (err instanceof SyntaxError && err.statusCode === 400) {
      return new ApiError(400, "invalid_request", "request body is not valid JSON");
    }
  }
  return new ApiError(500, "internal_error", "internal server error", { cause: err });
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ("code" in err || "statusCode" in err || "validation" in err);
}

function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (first === undefined) return "invalid request";
  const where = err.validationContext ?? "body";
  const path = first.instancePath ? first.instancePath.replace(/^\//, "").replaceAll("/", ".") : "";
  const missing = first.params && "missingProperty" in first.params ? String(first.params["missingProperty"]) : "";
  const field = missing || path;
  const subject = field ? `${where}.${field}` : where;
  return `${subject} ${first.message ?? "is invalid"}`;
}
