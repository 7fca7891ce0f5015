/** The audit log (inventory §2.2 "Audit", §5.12). */
import Type, { type Static } from "typebox";
import { AuditLogId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateTime } from "../primitives/strings.js";

/** Who acted. */
export const AuditActorType = Type.Union([Type.Literal("user"), Type.Literal("api_key"), Type.Literal("system")]);

/** `team` entries are visible to every member; `admin` entries to owners and admins only. */
export const AuditScope = Type.Union([Type.Literal("team"), Type.Literal("admin")]);

/** Outcome or severity of an entry. */
export const AuditStatus = Type.Union([
  Type.Literal("success"),
  Type.Literal("info"),
  Type.Literal("warning"),
  Type.Literal("error"),
]);

/** One audit log entry. */
export const AuditLogEntry = Type.Object({
  id: AuditLogId,
  actor_type: AuditActorType,
  actor_id: Type.Optional(Type.String({ description: "Prefixed id of the user or API key." })),
  actor_name: Type.Optional(Type.String({ examples: ["Alice"] })),
  resource_type: Type.String({ examples: ["sandbox"] }),
  resource_id: Type.Optional(Type.String()),
  action: Type.String({ examples: ["create"] }),
  scope: AuditScope,
  status: AuditStatus,
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { examples: [{ template: "minimal" }] })),
  created_at: DateTime,
});

const FilterValues = Type.Array(
  Type.String({ pattern: "^[a-z_,]{1,256}$", maxLength: 256, examples: ["sandbox", "team,member"] }),
  {
    maxItems: LIMITS.auditFilterMaxItems,
    description: "Repeat the parameter or separate values with commas.",
  },
);

/**
 * `GET /v1/audit-logs` and `GET /v1/admin/audit-logs` query: keyset paging,
 * newest first. Pass the previous page's `next_before` and `next_before_id`.
 */
export const AuditLogQuery = Type.Object({
  before: Type.Optional(DateTime),
  before_id: Type.Optional(AuditLogId),
  limit: Type.Optional(
    Type.Integer({
      minimum: LIMITS.auditLimit.min,
      maximum: LIMITS.auditLimit.max,
      default: LIMITS.auditLimit.default,
    }),
  ),
  resource_type: Type.Optional(FilterValues),
  action: Type.Optional(FilterValues),
});

/**
 * One page of the audit log. The cursor keeps microseconds, so entries that
 * share a second with the page boundary are not skipped (inventory B.8).
 */
export const AuditLogPage = Type.Object({
  items: Type.Array(AuditLogEntry),
  next_before: Type.Optional(DateTime),
  next_before_id: Type.Optional(AuditLogId),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link AuditActorType}. */
export type AuditActorType = Static<typeof AuditActorType>;
/** A value matching {@link AuditScope}. */
export type AuditScope = Static<typeof AuditScope>;
/** A value matching {@link AuditStatus}. */
export type AuditStatus = Static<typeof AuditStatus>;
/** A value matching {@link AuditLogEntry}. */
export type AuditLogEntry = Static<typeof AuditLogEntry>;
/** A value matching {@link AuditLogQuery}. */
export type AuditLogQuery = Static<typeof AuditLogQuery>;
/** A value matching {@link AuditLogPage}. */
export type AuditLogPage = Static<typeof AuditLogPage>;
