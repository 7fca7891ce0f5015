/**
 * One error type for both database backends, so repositories and services test
 * `sqlState`/`constraint` instead of driver-specific classes.
 *
 * Driver errors are not passed on as `cause`: PGlite attaches the query text and
 * its parameters to its errors, and PostgreSQL's `detail` repeats the offending
 * values ("Key (email)=(…) already exists"). Both would leak request values into
 * logs. We copy only the fields that name schema objects.
 */

/** SQLSTATE codes the control plane reacts to. */
export const SqlState = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
  notNullViolation: "23502",
  invalidTextRepresentation: "22P02",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
  lockNotAvailable: "55P03",
  undefinedTable: "42P01",
} as const;

/**
 * SQLSTATE classes whose server messages describe SQL text or server state,
 * never data values, and so are safe to keep in the message:
 * 08 connection, 0A unsupported, 25 transaction state, 40 rollback,
 * 42 syntax/access rule, 53 resources, 55 object state, 57 operator intervention.
 * Classes 22 (data), 23 (integrity) and P0 (RAISE) quote values, so for them
 * the message is built from the code and the schema object names only.
 */
const SAFE_MESSAGE_CLASSES = new Set(["08", "0A", "25", "40", "42", "53", "55", "57"]);

/** Fields we read from a pg / PGlite error object. */
interface DriverErrorFields {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly constraint?: unknown;
  readonly table?: unknown;
  readonly column?: unknown;
}

/** Why a query failed, with the SQLSTATE and the schema objects involved. */
export class DatabaseError extends Error {
  override name = "DatabaseError";
  /** Five-character SQLSTATE, or undefined when the server was never reached (connection refused, closed pool). */
  readonly sqlState: string | undefined;
  /** Violated constraint or unique index name, when the server reports one. */
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(
    message: string,
    fields: { sqlState?: string; constraint?: string; table?: string; column?: string; cause?: unknown } = {},
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.sqlState = fields.sqlState;
    this.constraint = fields.constraint;
    this.table = fields.table;
    this.column = fields.column;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Converts whatever a driver threw into a DatabaseError (idempotent). Server
 * errors keep their SQLSTATE and object names; errors that never reached the
 * server (network, closed client) keep the original as `cause`, since those
 * carry no query values.
 */
export function toDatabaseError(err: unknown): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const fields: DriverErrorFields = typeof err === "object" && err !== null ? err : {};
  const code = str(fields.code);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) {
    const text = str(fields.message) ?? String(err);
    return new DatabaseError(`database unavailable: ${text}`, { cause: err });
  }
  const constraint = str(fields.constraint);
  const table = str(fields.table);
  const column = str(fields.column);
  const serverMessage = str(fields.message) ?? "error";
  let message: string;
  if (SAFE_MESSAGE_CLASSES.has(code.slice(0, 2))) message = `${serverMessage} (SQLSTATE ${code})`;
  else {
    const on = [constraint && `constraint ${constraint}`, table && `table ${table}`, column && `column ${column}`];
    const where = on.filter(Boolean).join(", ");
    message = `query failed with SQLSTATE ${code}${where ? ` (${where})` : ""}`;
  }
  return new DatabaseError(message, { sqlState: code, constraint, table, column });
}

/** True when `err` is a unique violation, optionally of one named constraint / unique index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return hasState(err, SqlState.uniqueViolation, constraint);
}

/** True when `err` is a foreign-key violation, optionally of one named constraint. */
export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  return hasState(err, SqlState.foreignKeyViolation, constraint);
}

/** True when `err` is a CHECK violation, optionally of one named constraint. */
export function isCheckViolation(err: unknown, constraint?: string): boolean {
  return hasState(err, SqlState.checkViolation, constraint);
}

function hasState(err: unknown, state: string, constraint: string | undefined): boolean {
  return (
    err instanceof DatabaseError &&
    err.sqlState === state &&
    (constraint === undefined || err.constraint === constraint)
  );
}
