/** The one place where agent errors become Connect errors. */
import { Code, ConnectError } from "@connectrpc/connect";
import { PlatformError } from "@wrenn/kit";

const CODES: Readonly<Record<string, Code>> = {
  not_found: Code.NotFound,
  failed_precondition: Code.FailedPrecondition,
  invalid_argument: Code.InvalidArgument,
  already_exists: Code.AlreadyExists,
};

/**
 * Maps anything thrown by the manager, envd or a handler to a ConnectError. ConnectErrors
 * (e.g. envd's own answers) keep their code and message so they reach the control plane.
 */
export function toConnectError(err: unknown): ConnectError {
  // A ConnectError from envd carries envd's response headers as metadata
  // (transfer-encoding, content-type...); passed on as is, connect would copy
  // them into our own response and corrupt it. Keep code and message only.
  if (err instanceof ConnectError) return new ConnectError(err.rawMessage, err.code, undefined, undefined, err);
  if (err instanceof PlatformError) return new ConnectError(err.message, CODES[err.code] ?? Code.Internal);
  return new ConnectError(err instanceof Error ? err.message : String(err), Code.Internal);
}

/** An InvalidArgument error for a bad request field. */
export function invalidArgument(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** Rejects an empty sandbox id before anything else runs. */
export function requireSandboxId(id: string): string {
  if (id === "") throw invalidArgument("sandbox_id is required");
  return id;
}

/** What the not-yet-built methods answer. */
export function notImplemented(method: string): ConnectError {
  return new ConnectError(`${method} is not implemented yet on this agent`, Code.Unimplemented);
}
