/**
 * Public identifiers: the form every id takes outside the database.
 *
 * Rows are keyed by UUIDs; the API shows `<prefix><25 base36 chars>` where the
 * 25 characters are the UUID's 16 bytes read as one big-endian unsigned
 * integer, written in lowercase base36 and left-padded with `0`. The prefix
 * names the kind, so an id pasted into the wrong place is rejected instead of
 * silently looking up another table.
 */
import { randomUUID } from "node:crypto";
import { ID_BODY_LENGTH, ID_PREFIXES, type IdKind } from "@wrenn/api-schema";

// The prefixes and the body length are part of the API contract: one table, in the schema package.
export { ID_PREFIXES, type IdKind } from "@wrenn/api-schema";

/** Why a text is not a public id of the expected kind. */
export type PublicIdFailure =
  /** Not a string, or does not start with the kind's prefix. */
  | "wrong_prefix"
  /** The part after the prefix is not exactly 25 characters. */
  | "wrong_length"
  /** The part after the prefix holds something other than `0-9a-z`. */
  | "bad_character"
  /** Valid base36, but larger than 128 bits (25 base36 digits reach about 129.2 bits). */
  | "overflow";

/** The outcome of {@link parsePublicId}: the UUID, or why the text was rejected. */
export type ParsedPublicId =
  | { readonly ok: true; readonly uuid: string }
  | { readonly ok: false; readonly reason: PublicIdFailure };

/** Characters after the prefix. */
export const PUBLIC_ID_BODY_LENGTH = ID_BODY_LENGTH;

/** The all-zero UUID: the platform team (owner of shared hosts and admin audit entries) and the minimal template. */
export const PLATFORM_TEAM_ID = "00000000-0000-0000-0000-000000000000";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BODY_RE = /^[0-9a-z]+$/;
const MAX_128 = (1n << 128n) - 1n;

/** A fresh random (version 4) UUID, lowercase and hyphenated. */
export function newUuid(): string {
  return randomUUID();
}

/**
 * True for a lowercase, hyphenated UUID (any version, including the all-zero one).
 * Uppercase is rejected so that every UUID has exactly one spelling in the database.
 */
export function isUuid(text: unknown): text is string {
  return typeof text === "string" && UUID_RE.test(text);
}

/**
 * The public id of `uuid` for `kind`, e.g. `toPublicId("user", u)` → `usr-…`.
 *
 * @throws TypeError when `uuid` is not a lowercase hyphenated UUID: the caller
 * holds a database value here, so a bad one is a programming error, not user input.
 */
export function toPublicId(kind: IdKind, uuid: string): string {
  if (!isUuid(uuid)) throw new TypeError(`toPublicId(${kind}): not a lowercase hyphenated UUID`);
  const value = BigInt(`0x${uuid.replaceAll("-", "")}`);
  return ID_PREFIXES[kind] + value.toString(36).padStart(PUBLIC_ID_BODY_LENGTH, "0");
}

/**
 * The UUID behind a public id of `kind`. Never throws: anything that is not
 * exactly `<prefix><25 lowercase base36 chars>` encoding at most 128 bits
 * comes back as a failure naming the reason (for logs; API errors should stay generic).
 */
export function parsePublicId(kind: IdKind, text: unknown): ParsedPublicId {
  const prefix = ID_PREFIXES[kind];
  if (typeof text !== "string" || !text.startsWith(prefix)) return { ok: false, reason: "wrong_prefix" };
  const body = text.slice(prefix.length);
  if (body.length !== PUBLIC_ID_BODY_LENGTH) return { ok: false, reason: "wrong_length" };
  if (!BODY_RE.test(body)) return { ok: false, reason: "bad_character" };
  // Every character is a base36 digit now; BigInt has no radix parser, so fold by hand.
  let value = 0n;
  for (const ch of body) value = value * 36n + BigInt(Number.parseInt(ch, 36));
  if (value > MAX_128) return { ok: false, reason: "overflow" };
  const hex = value.toString(16).padStart(32, "0");
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { ok: true, uuid };
}

/** True when `text` is a well-formed public id of `kind`. */
export function isPublicId(kind: IdKind, text: unknown): text is string {
  return parsePublicId(kind, text).ok;
}

/** A fresh public id of `kind` together with its UUID, for inserting a new row. */
export function newPublicId(kind: IdKind): { readonly uuid: string; readonly id: string } {
  const uuid = newUuid();
  return { uuid, id: toPublicId(kind, uuid) };
}
