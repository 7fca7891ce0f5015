/**
 * API keys and one-time tokens: random secrets shown once, stored only as SHA-256.
 *
 * A plain (unsalted, fast) hash is right here, unlike passwords: the secrets
 * carry 128 or 256 random bits, so there is nothing to brute-force, and the
 * hash must be deterministic to be the database lookup key. Lookups go through
 * a unique index on the hash, so no secret is ever compared byte by byte in
 * JavaScript; {@link hashesEqual} exists for the few places that compare two
 * digests in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix of every API key. */
export const API_KEY_PREFIX = "wrn_";
/** Characters of the key shown in listings (`key_prefix`), e.g. `wrn_ab12cd`. */
export const API_KEY_DISPLAY_CHARS = 10;

const API_KEY_RE = /^wrn_[0-9a-f]{32}$/;
const ONE_TIME_TOKEN_RE = /^[0-9a-f]{64}$/;
const SHA256_HEX_RE = /^[0-9a-f]{64}$/;

/** A freshly generated secret: the plaintext to show once and what to store. */
export interface GeneratedApiKey {
  /** `wrn_` + 32 lowercase hex characters (128 random bits). Show once, never store. */
  readonly plaintext: string;
  /** Lowercase hex SHA-256 of the plaintext: the stored lookup key. */
  readonly hash: string;
  /** The first {@link API_KEY_DISPLAY_CHARS} characters, stored for display. */
  readonly prefix: string;
}

/** Generates a new API key. */
export function generateApiKey(): GeneratedApiKey {
  const plaintext = API_KEY_PREFIX + randomBytes(16).toString("hex");
  return { plaintext, hash: sha256Hex(plaintext), prefix: plaintext.slice(0, API_KEY_DISPLAY_CHARS) };
}

/** True when `text` has the exact shape of an API key (lowercase hex only, as generated). */
export function isApiKeyFormat(text: unknown): text is string {
  return typeof text === "string" && API_KEY_RE.test(text);
}

/**
 * The stored hash to look a presented key up by, or `undefined` when the text
 * cannot be a key: garbage (including huge headers) is refused before hashing
 * and before any database round trip.
 */
export function apiKeyLookupHash(presented: unknown): string | undefined {
  return isApiKeyFormat(presented) ? sha256Hex(presented) : undefined;
}

/** A freshly generated one-time token (activation, password reset, host registration, host refresh). */
export interface GeneratedOneTimeToken {
  /** 64 lowercase hex characters (256 random bits). Sent to its recipient, never stored. */
  readonly token: string;
  /** Lowercase hex SHA-256 of the token: the stored lookup key. */
  readonly hash: string;
}

/** Generates a one-time token and its stored hash. */
export function generateOneTimeToken(): GeneratedOneTimeToken {
  const token = randomBytes(32).toString("hex");
  return { token, hash: sha256Hex(token) };
}

/** True when `text` has the shape of a one-time token. */
export function isOneTimeTokenFormat(text: unknown): text is string {
  return typeof text === "string" && ONE_TIME_TOKEN_RE.test(text);
}

/** The stored hash to look a presented one-time token up by, or `undefined` when it is not shaped like one. */
export function oneTimeTokenLookupHash(presented: unknown): string | undefined {
  return isOneTimeTokenFormat(presented) ? sha256Hex(presented) : undefined;
}

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Compares two lowercase hex SHA-256 digests in constant time. Anything that
 * is not such a digest compares unequal (without throwing, unlike
 * `timingSafeEqual` on buffers of different lengths).
 */
export function hashesEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string" || !SHA256_HEX_RE.test(a) || !SHA256_HEX_RE.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}
