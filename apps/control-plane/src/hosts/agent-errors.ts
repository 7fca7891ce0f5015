import { Code, ConnectError } from "@connectrpc/connect";
import { ApiError } from "../http/api-error.js";

/**
 * Maps a host agent's Connect error to the REST error (inventory §1.4,
 * `agentErrToHTTP`): NotFound → 404, InvalidArgument → 400,
 * FailedPrecondition/AlreadyExists → 409, PermissionDenied → 403,
 * ResourceExhausted → 507/429-like capacity (409 here: the capsule cannot grow),
 * Unavailable → 503, Unimplemented → 501, DeadlineExceeded → 504, else 502.
 * Messages from the agent are passed on (they describe the capsule, not our
 * internals); network failures say only that the host is unreachable.
 */
export function agentErrorToApi(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const ce = ConnectError.from(err);
  const message = ce.rawMessage;
  switch (ce.code) {
    case Code.NotFound:
      return new ApiError(404, "not_found", message || "resource not found", { cause: err });
    case Code.InvalidArgument:
      return new ApiError(400, "invalid_request", message || "invalid request", { cause: err });
    case Code.FailedPrecondition:
      return new ApiError(409, "invalid_state", message, { cause: err });
    case Code.AlreadyExists:
      return new ApiError(409, "conflict", message, { cause: err });
    case Code.PermissionDenied:
      return new ApiError(403, "forbidden", message, { cause: err });
    case Code.ResourceExhausted:
      return new ApiError(507, "insufficient_storage", message || "the capsule ran out of space", { cause: err });
    case Code.Unavailable:
      return new ApiError(503, "host_unavailable", "the capsule's host is unavailable — try again later", {
        cause: err,
      });
    case Code.DeadlineExceeded:
      return new ApiError(504, "timeout", message || "the operation timed out", { cause: err });
    case Code.Canceled:
      return new ApiError(499, "canceled", "the request was canceled", { cause: err });
    case Code.Unimplemented:
      return new ApiError(501, "not_implemented", message || "not supported by this host", { cause: err });
    default:
      return new ApiError(502, "agent_error", message || "host agent error", { cause: err });
  }
}

/** True when the agent said the thing does not exist (destroy tolerates it). */
export function isAgentNotFound(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.NotFound;
}
