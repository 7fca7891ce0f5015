import { Code, ConnectError } from "@connectrpc/connect";
import { AccessDeniedError } from "./access.js";
import { InvalidPathError } from "./paths.js";
import { UnknownUserError } from "./users.js";

const errnoCodes: Readonly<Record<string, Code>> = {
  ENOENT: Code.NotFound,
  EEXIST: Code.AlreadyExists,
  ENOTEMPTY: Code.FailedPrecondition,
  EACCES: Code.PermissionDenied,
  EPERM: Code.PermissionDenied,
  EROFS: Code.PermissionDenied,
  ENOTDIR: Code.InvalidArgument,
  EISDIR: Code.InvalidArgument,
  EINVAL: Code.InvalidArgument,
  ENAMETOOLONG: Code.InvalidArgument,
  ELOOP: Code.InvalidArgument,
  EXDEV: Code.FailedPrecondition,
  ENOSPC: Code.ResourceExhausted,
  EDQUOT: Code.ResourceExhausted,
  EMFILE: Code.ResourceExhausted,
  ESRCH: Code.NotFound,
};

const errnoText: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many levels of symbolic links",
  EXDEV: "cannot move across file systems",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EMFILE: "too many open files",
  ESRCH: "no such process",
};

/** The errno code of a Node system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

/**
 * Translates anything thrown inside envd into a ConnectError: errno codes by
 * table, envd's own error classes by type, the rest as Internal. `subject`
 * (usually the path) is named in the message so the user knows what failed.
 */
export function toConnectError(err: unknown, subject?: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof UnknownUserError) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof InvalidPathError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof AccessDeniedError) return new ConnectError(err.message, Code.PermissionDenied);
  const errno = errnoOf(err);
  if (errno && errno in errnoCodes) {
    const text = errnoText[errno] ?? errno;
    const where = subject ? `'${subject}': ` : "";
    return new ConnectError(`${where}${text}`, errnoCodes[errno], undefined, undefined, err);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

/** HTTP status for an error thrown by a plain-HTTP handler (same table as Connect). */
export function httpStatusOf(err: unknown): number {
  const code = toConnectError(err).code;
  switch (code) {
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
      return 409;
    case Code.PermissionDenied:
      return 403;
    case Code.Unauthenticated:
      return 401;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
      return 400;
    case Code.ResourceExhausted:
      return 507;
    default:
      return 500;
  }
}
