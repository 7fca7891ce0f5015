/**
 * Strict parsing of compact JWS text (`header.payload.signature`), kept apart
 * from the signing logic so every malformed-input path is in one small place.
 * Nothing here throws on input.
 */

/** Why a token was rejected. */
export type JwtFailure =
  /** Not three base64url parts of decodable JSON objects, too long, or not a string. */
  | "malformed"
  /** The header names another algorithm than HS256 (including `none`) or critical extensions. */
  | "unsupported_algorithm"
  /** The signature does not match this secret. */
  | "bad_signature"
  /** `exp` is in the past (beyond the allowed clock skew). */
  | "expired"
  /** `iat` or `nbf` is in the future (beyond the allowed clock skew). */
  | "not_yet_valid"
  /** A valid token of the other kind (host token to a user check, or the reverse). */
  | "wrong_type"
  /** Signed by us but missing or mistyped claims. */
  | "invalid_claims";

/** Longest token accepted; ours are a few hundred bytes, so anything far larger is refused before any work. */
export const MAX_JWT_LENGTH = 8192;

const PART_RE = /^[A-Za-z0-9_-]+$/;

/** The three encoded parts of a compact JWS. */
export interface CompactJwsParts {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

/** Splits a token into its parts, or `undefined` when it is not shaped like a compact JWS. */
export function splitCompactJws(token: unknown): CompactJwsParts | undefined {
  if (typeof token !== "string" || token.length > MAX_JWT_LENGTH) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts;
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  if (!PART_RE.test(header) || !PART_RE.test(payload) || !PART_RE.test(signature)) return undefined;
  return { header, payload, signature };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes one base64url part into JSON, or `undefined`. Non-canonical base64url
 * (stray low bits) and invalid UTF-8 are refused, so each token has one spelling.
 */
export function decodeJwtPart(part: string): unknown {
  const bytes = Buffer.from(part, "base64url");
  if (bytes.toString("base64url") !== part) return undefined;
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object (not an array or null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
