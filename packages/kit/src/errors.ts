/**
 * The error vocabulary shared by every Wrenn surface: a coarse `code` (the
 * Connect codes) plus a stable `reason` naming the specific case.
 */
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "resource_exhausted"
  | "permission_denied"
  | "unauthenticated"
  | "unavailable"
  | "deadline_exceeded"
  | "canceled"
  | "unimplemented"
  | "internal";

/** An error with a closed-set code and a stable reason; `cause` is logged, never serialised. */
export class PlatformError extends Error {
  override name = "PlatformError";
  readonly code: ErrorCode;
  readonly reason: string;
  readonly details: Readonly<Record<string, string>> | undefined;

  constructor(
    code: ErrorCode,
    reason: string,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, string>> },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.reason = reason;
    this.details = options?.details;
  }

  /** Wraps anything thrown: AbortError → canceled, TimeoutError → deadline_exceeded, else internal. */
  static from(reason: unknown): PlatformError {
    if (reason instanceof PlatformError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError")
        return new PlatformError("canceled", "CANCELED", "operation canceled", { cause: reason });
      if (reason.name === "TimeoutError") {
        return new PlatformError("deadline_exceeded", "DEADLINE_EXCEEDED", "operation timed out", { cause: reason });
      }
    }
    return new PlatformError("internal", "INTERNAL", "internal error", { cause: reason });
  }
}
