import Type from "typebox";

/**
 * Prefixes of the public ids. Every database id is a UUID; the API shows it as
 * prefix + the 16 UUID bytes in base36, left-padded with `0` to 25 characters
 * (inventory §1.3). Templates have no public id: they are addressed by name.
 */
export const ID_PREFIXES = {
  capsule: "cl-",
  user: "usr-",
  team: "team-",
  apiKey: "key-",
  host: "host-",
  hostToken: "htok-",
  refreshToken: "hrt-",
  auditLog: "log-",
  build: "bld-",
  permission: "perm-",
  channel: "ch-",
} as const;

/** The kinds of public id, keys of {@link ID_PREFIXES}. */
export type IdKind = keyof typeof ID_PREFIXES;

/** Length of the base36 part of every public id. */
export const ID_BODY_LENGTH = 25;

// One fixed body for every example id keeps generated documentation and test
// fixtures stable from run to run.
const EXAMPLE_BODY = "3n1k7e0q5v2m8x4c6b9z1a7d2";

/** An example public id of `kind`, as shown in the OpenAPI document. */
export function exampleId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}${EXAMPLE_BODY}`;
}

/**
 * The schema of one kind of public id. The pattern checks the prefix, length
 * and alphabet only: 25 base36 digits can encode more than 128 bits, so a
 * well-formed id may still not decode to a UUID; the control plane's id parser
 * rejects those (answering 400 or 404 as for any unknown id).
 */
export function publicIdSchema(kind: IdKind, description: string) {
  const prefix = ID_PREFIXES[kind];
  return Type.String({
    pattern: `^${prefix}[0-9a-z]{${ID_BODY_LENGTH}}$`,
    minLength: prefix.length + ID_BODY_LENGTH,
    maxLength: prefix.length + ID_BODY_LENGTH,
    description,
    examples: [exampleId(kind)],
  });
}

/** `cl-…`: a capsule (sandbox). */
export const CapsuleId = publicIdSchema("capsule", "Capsule id (`cl-` + 25 base36 characters).");
/** `usr-…`: a user account. */
export const UserId = publicIdSchema("user", "User id (`usr-` + 25 base36 characters).");
/** `team-…`: a team. */
export const TeamId = publicIdSchema("team", "Team id (`team-` + 25 base36 characters).");
/** `key-…`: a team API key. */
export const ApiKeyId = publicIdSchema("apiKey", "API key id (`key-` + 25 base36 characters).");
/** `host-…`: a host running the host agent. */
export const HostId = publicIdSchema("host", "Host id (`host-` + 25 base36 characters).");
/** `log-…`: an audit log entry. */
export const AuditLogId = publicIdSchema("auditLog", "Audit log entry id (`log-` + 25 base36 characters).");
/** `bld-…`: a template build. */
export const BuildId = publicIdSchema("build", "Template build id (`bld-` + 25 base36 characters).");
/** `ch-…`: a notification channel. */
export const ChannelId = publicIdSchema("channel", "Notification channel id (`ch-` + 25 base36 characters).");
