import Type, { type Static } from "typebox";
import { annotate } from "./primitives/annotate.js";
import { CapsuleId } from "./primitives/ids.js";

/** What the catalog records for one error code. */
export interface ErrorCodeInfo {
  /** The HTTP status every response with this code carries. */
  readonly status: number;
  /** One line saying when the API answers with this code. */
  readonly doc: string;
}

/**
 * Every `code` the REST API puts in an error body, with its HTTP status. The
 * first group is the reference system's vocabulary (inventory §1.4), kept so
 * its clients recognise our errors; the rest are Wrenn's own. A test keeps
 * this table and `docs/errors.md` identical.
 */
export const ERROR_CODES = {
  invalid_request: {
    status: 400,
    doc: "The request is malformed or breaks a rule of the route (validation, bad id, bad JSON).",
  },
  invalid_token: { status: 400, doc: "The activation or password-reset token is unknown, used or expired." },
  already_activated: { status: 400, doc: "The account behind the activation token is already active." },
  last_login_method: { status: 400, doc: "Unlinking this provider would leave the account with no way to sign in." },
  read_error: { status: 400, doc: "The request body could not be read to the end (the client went away)." },
  unauthorized: { status: 401, doc: "Credentials are missing, invalid or expired, or the email or password is wrong." },
  wrong_password: { status: 401, doc: "The current password given to change the password is wrong." },
  forbidden: { status: 403, doc: "Authenticated, but the role, team or admin rights do not allow this." },
  no_team: { status: 403, doc: "The credentials carry no team; sign in again or switch team." },
  account_not_activated: { status: 403, doc: "Sign-in before the account was activated from the email link." },
  account_disabled: { status: 403, doc: "Sign-in to an account a platform admin disabled." },
  account_deactivated: { status: 403, doc: "A token of a user who is no longer active (disabled or deleted)." },
  not_found: { status: 404, doc: "The resource does not exist or belongs to another team." },
  provider_not_found: { status: 404, doc: "The OAuth provider is unknown or not configured." },
  conflict: { status: 409, doc: "The request conflicts with existing state (duplicate name, existing directory)." },
  invalid_state: { status: 409, doc: "The capsule or build is not in a state that allows this (e.g. not running)." },
  name_reserved: { status: 409, doc: "The template name belongs to a platform template." },
  template_name_taken: { status: 409, doc: "The team already has a template with this name." },
  signup_cooldown: { status: 409, doc: "An unactivated signup for this email is less than 30 minutes old." },
  email_taken: { status: 409, doc: "An account with this email already exists." },
  owns_team_with_members: {
    status: 409,
    doc: "The account owns a team that has other members; transfer or delete it first.",
  },
  has_active_sandboxes: {
    status: 409,
    doc: "The host still runs capsules; `sandbox_ids` lists them; retry with `force=true`.",
  },
  too_large: { status: 413, doc: "The upload or request body exceeds the route's size limit." },
  unsupported_media_type: { status: 415, doc: "The Content-Type is not one the route accepts." },
  too_many_requests: {
    status: 429,
    doc: "Too many failed sign-ins, password changes or reset mails for one account; `retry_after_sec` says when to retry.",
  },
  canceled: {
    status: 499,
    doc: "The client went away before the answer (logged; the client never reads it). Nothing was half-done.",
  },
  internal_error: { status: 500, doc: "An unexpected failure; details are in the server log, not the response." },
  internal: {
    status: 500,
    doc: "Kept for clients of the reference, which sent it from a few handlers; Wrenn sends internal_error.",
  },
  db_error: { status: 500, doc: "A database operation failed." },
  build_error: { status: 500, doc: "The template build could not be created or queued." },
  not_implemented: { status: 501, doc: "The host agent of this capsule does not implement the operation." },
  agent_error: { status: 502, doc: "The host agent running the capsule failed or answered with an error." },
  no_hosts_available: { status: 503, doc: "No online host can take the capsule now; try again later." },
  host_unavailable: { status: 503, doc: "The host running the capsule cannot be reached now." },
  timeout: { status: 504, doc: "The operation in the capsule did not finish within its deadline." },
  insufficient_storage: { status: 507, doc: "The capsule ran out of disk (or tmpfs) space; nothing was written." },
} as const satisfies Readonly<Record<string, ErrorCodeInfo>>;

/** One of the error codes of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is a code of the catalog (for clients that receive codes as plain strings). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The HTTP status of a catalog code. */
export function errorStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/**
 * The body of every error response: `{"error":{"code","message"}}`. `code` is
 * a plain string in the schema (clients must tolerate codes added later), but
 * the API only sends codes of {@link ERROR_CODES}. Extra fields may sit next to
 * `code` and `message` (e.g. `sandbox_ids`); the message never carries secrets
 * or request values.
 */
export const ErrorBody = Type.Object({
  error: Type.Object(
    {
      code: Type.String({ pattern: "^[a-z][a-z0-9_]*$", examples: ["not_found"] }),
      message: Type.String({ examples: ["resource not found"] }),
    },
    { additionalProperties: true },
  ),
});

/** `$id` under which {@link ErrorBodyShared} is registered with Fastify. */
export const ERROR_BODY_ID = "ErrorBody";

/**
 * {@link ErrorBody} with an `$id`, for `fastify.addSchema`. The catalog's error
 * responses refer to it (`{"$ref":"ErrorBody#"}`) instead of repeating it in
 * every route, which keeps `/openapi.yaml` small (one component instead of
 * hundreds of copies). Register it before the routes; see `sharedSchemas`.
 */
export const ErrorBodyShared = annotate(ErrorBody, { $id: ERROR_BODY_ID });

/** 409 of `DELETE /v1/hosts/{id}` without `force`: the host still runs these capsules. */
export const HasActiveSandboxesErrorBody = Type.Object({
  error: Type.Object(
    {
      // An enum, not a literal: fast-json-stringify writes a `const` as the
      // constant whatever the value, which would disguise any other 409.
      code: Type.Enum(["has_active_sandboxes"]),
      message: Type.String({ examples: ["host has active capsules"] }),
      sandbox_ids: Type.Array(CapsuleId),
    },
    { additionalProperties: true },
  ),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link ErrorBody}. */
export type ErrorBody = Static<typeof ErrorBody>;
/** A value matching {@link HasActiveSandboxesErrorBody}. */
export type HasActiveSandboxesErrorBody = Static<typeof HasActiveSandboxesErrorBody>;
