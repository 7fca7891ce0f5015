/**
 * Password hashing with scrypt from `node:crypto` (memory-hard, no native addon).
 *
 * Stored form, PHC-like and self-describing so parameters can be raised later
 * without a migration (see {@link needsRehash}):
 *
 *     $scrypt$ln=15,r=8,p=1$<salt, base64 unpadded>$<32-byte key, base64 unpadded>
 *
 * scrypt runs on libuv's thread pool, so hashing never blocks the event loop,
 * but each call holds one pool thread and about 32 MiB for ~100 ms: callers
 * that can be hammered (login, signup) should be rate limited upstream.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { PlatformError } from "@wrenn/kit";

/** scrypt cost parameters: N = 2^logN, block size r, parallelism p. */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * What new hashes use: N = 2^15, r = 8, p = 1, about 32 MiB per call. N = 2^16
 * would need just over 64 MiB; raising `p` instead (OWASP lists 2^15/8/3 as
 * equivalent to 2^17/8/1) multiplies time without more memory.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ logN: 15, r: 8, p: 1 });

/** Minimum password length in characters (Unicode code points). */
export const PASSWORD_MIN_CHARS = 8;
/** Maximum password length in UTF-8 bytes: longer inputs are refused before any hashing, so they cannot be used to burn CPU. */
export const PASSWORD_MAX_BYTES = 1024;

/** The memory budget every scrypt call must fit in; parameters needing more are refused. */
export const SCRYPT_MAX_MEMORY = 64 * 1024 * 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PHC_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Why a password is not acceptable as a new password. */
export type PasswordPolicyFailure = "too_short" | "too_long";

/**
 * Checks a new password against the length policy (min {@link PASSWORD_MIN_CHARS}
 * code points, max {@link PASSWORD_MAX_BYTES} UTF-8 bytes), for signup and password
 * change forms to report precisely. Returns `undefined` when acceptable.
 */
export function checkPasswordPolicy(password: string): PasswordPolicyFailure | undefined {
  if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) return "too_long";
  // Count code points, not UTF-16 units: "8 characters" must mean what the user typed.
  let chars = 0;
  for (const _ of password) if (++chars >= PASSWORD_MIN_CHARS) return undefined;
  return "too_short";
}

/** Bytes scrypt allocates for these parameters (OpenSSL's own estimate: B plus V). */
export function scryptMemoryBytes(params: ScryptParams): number {
  return 128 * params.r * params.p + 128 * params.r * (2 ** params.logN + 2);
}

function assertUsableParams(params: ScryptParams): void {
  const { logN, r, p } = params;
  const integers = [logN, r, p].every((v) => Number.isInteger(v) && v >= 1);
  if (!integers || logN < 10 || logN > 20 || r > 32 || p > 16 || scryptMemoryBytes(params) > SCRYPT_MAX_MEMORY) {
    throw new PlatformError("internal", "PASSWORD_PARAMS_INVALID", "scrypt parameters out of the supported range");
  }
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: SCRYPT_MAX_MEMORY };
  // NFC so the same typed password matches whichever Unicode form a browser or OS sends.
  const input = Buffer.from(password.normalize("NFC"), "utf8");
  return new Promise((resolve, reject) => {
    scrypt(input, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const b64 = (buf: Buffer) => buf.toString("base64").replace(/=+$/, "");

/**
 * Hashes a new password. Enforces the length policy first.
 *
 * @throws PlatformError `invalid_argument` / `PASSWORD_TOO_SHORT` or `PASSWORD_TOO_LONG`.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const failure = checkPasswordPolicy(password);
  if (failure === "too_short") {
    throw new PlatformError(
      "invalid_argument",
      "PASSWORD_TOO_SHORT",
      `password must be at least ${PASSWORD_MIN_CHARS} characters`,
    );
  }
  if (failure === "too_long") {
    throw new PlatformError(
      "invalid_argument",
      "PASSWORD_TOO_LONG",
      `password must be at most ${PASSWORD_MAX_BYTES} bytes`,
    );
  }
  assertUsableParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const m = PHC_RE.exec(stored);
  if (!m) return undefined;
  const [, ln, r, p, salt, key] = m;
  if (!ln || !r || !p || !salt || !key) return undefined;
  const parsed = {
    params: { logN: Number(ln), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt, "base64"),
    key: Buffer.from(key, "base64"),
  };
  if (parsed.salt.length < SALT_BYTES || parsed.key.length !== KEY_BYTES) return undefined;
  // Node's decoder ignores stray bits; insist on the one canonical spelling.
  if (b64(parsed.salt) !== salt || b64(parsed.key) !== key) return undefined;
  return parsed;
}

/**
 * Checks `password` against a stored hash in constant time.
 *
 * Pass `null`/`undefined` when there is no hash (unknown email, OAuth-only
 * account): a full scrypt still runs and the answer is `false`, so response
 * time does not tell which accounts exist. Oversized passwords are `false`
 * without hashing.
 *
 * @throws PlatformError `internal` / `PASSWORD_HASH_INVALID` when the stored value is
 * not a hash this module wrote (a database problem, not a wrong password).
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) return false;
  if (stored === null || stored === undefined) {
    await derive(password, randomBytes(SALT_BYTES), DEFAULT_SCRYPT_PARAMS);
    return false;
  }
  const parsed = parseHash(stored);
  if (!parsed) throw new PlatformError("internal", "PASSWORD_HASH_INVALID", "stored password hash is malformed");
  assertUsableParams(parsed.params);
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/**
 * True when a stored hash should be replaced (after a successful login) because it
 * was made with other parameters than `params`, or is not in this module's format.
 */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const p = parsed.params;
  return p.logN !== params.logN || p.r !== params.r || p.p !== params.p || parsed.salt.length !== SALT_BYTES;
}
