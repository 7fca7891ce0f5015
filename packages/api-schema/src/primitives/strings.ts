import Type from "typebox";
import { LIMITS } from "./limits.js";

/** The reference's `validate.SafeName` rule, shared by every user-chosen name. */
export const SAFE_NAME_PATTERN = "^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$";

/**
 * A name that is safe in paths, URLs and shell arguments: a letter or digit,
 * then up to 63 letters, digits, `.`, `_` or `-`. Template, snapshot and build
 * names, host tags and process tags use it.
 */
export const SafeName = Type.String({
  pattern: SAFE_NAME_PATTERN,
  maxLength: LIMITS.nameMaxLength,
  description: "1-64 characters: a letter or digit, then letters, digits, '.', '_' or '-'.",
  examples: ["my-template"],
});

/** The name of a template (base image or snapshot). */
export const TemplateName = Type.String({
  pattern: SAFE_NAME_PATTERN,
  maxLength: LIMITS.nameMaxLength,
  description: "Template name (SafeName rule).",
  examples: ["minimal", "code-runner-beta"],
});

/**
 * A user-chosen tag of a background process. Same rule as {@link SafeName}
 * but never all digits: a process selector that is all digits means a PID,
 * so an all-digit tag could never be selected.
 */
export const ProcessTag = Type.String({
  pattern: "^(?![0-9]+$)[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$",
  maxLength: LIMITS.nameMaxLength,
  description: "Process tag (SafeName rule, not all digits).",
  examples: ["proc-1a2b3c4d", "bg-test"],
});

/** Selects a process by numeric PID or by tag. */
export const ProcessSelector = Type.String({
  pattern: SAFE_NAME_PATTERN,
  maxLength: LIMITS.nameMaxLength,
  description: "A numeric PID, or the tag of a process.",
  examples: ["1234", "proc-1a2b3c4d"],
});

/** A file or directory path inside a capsule; relative paths resolve against the user's home. */
export const FilePath = Type.String({
  minLength: 1,
  maxLength: LIMITS.pathMaxLength,
  pattern: "^[^\\u0000]+$",
  description: "Path inside the capsule (no NUL characters).",
  examples: ["/home/user/hello.txt"],
});

/** An email address as entered by a user. */
export const Email = Type.String({
  format: "email",
  maxLength: LIMITS.emailMaxLength,
  examples: ["alice@example.com"],
});

/** A timestamp in RFC 3339 (`date-time`), UTC. */
export const DateTime = Type.String({ format: "date-time", examples: ["2026-05-02T10:15:30Z"] });

/** A calendar date `YYYY-MM-DD`. */
export const DateOnly = Type.String({ format: "date", examples: ["2026-05-02"] });

/** Base64 (standard alphabet, padded) text. */
export const Base64 = Type.String({ pattern: "^[A-Za-z0-9+/]*={0,2}$", examples: ["aGVsbG8K"] });

/** A password as sent by a client. */
export const Password = Type.String({
  minLength: LIMITS.password.min,
  maxLength: LIMITS.password.max,
  description: "At least 8 characters.",
});

/** A user's display name. */
export const DisplayName = Type.String({
  minLength: LIMITS.displayName.min,
  maxLength: LIMITS.displayName.max,
  examples: ["Alice"],
});

/** A one-time token copied from an email link or issued to a host agent. */
export const OneTimeToken = Type.String({ minLength: 1, maxLength: LIMITS.tokenMaxLength });

/**
 * Environment variables for a process. Names may not contain `=` or NUL (the
 * kernel could not represent them); `propertyNames` rejects bad names instead
 * of silently dropping them, whatever the validator's additional-property mode.
 */
export const EnvVars = Type.Record(Type.String(), Type.String({ maxLength: LIMITS.envs.valueMaxLength }), {
  propertyNames: { minLength: 1, maxLength: LIMITS.envs.nameMaxLength, pattern: "^[^=\\u0000]+$" },
  maxProperties: LIMITS.envs.maxEntries,
  examples: [{ TERM: "xterm-256color" }],
});

/** A string-to-string map in responses (capsule and template metadata, default env). */
export const StringMap = Type.Record(Type.String(), Type.String(), { examples: [{ kernel_version: "6.1.0" }] });
