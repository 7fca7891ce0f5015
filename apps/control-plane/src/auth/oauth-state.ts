/**
 * The signed cookies of the GitHub OAuth flow.
 *
 * - `oauth_state` = `{state}:{HMAC(state + ":" + intent)}:{intent}`: binds the
 *   random `state` sent to GitHub to the browser that started the flow, and the
 *   intent (`login` or `signup`) to that state so it cannot be switched on the
 *   way back.
 * - `oauth_link_user_id` = `{usr-id}:{HMAC(usr-id)}`: marks a flow started from
 *   settings to link GitHub to an already signed-in user.
 *
 * HMAC is SHA-256 keyed with the JWT secret, written as lowercase hex.
 * The link flow must use the same intent-bound state cookie as login (the
 * reference once signed it as `HMAC(state)` alone, so every link attempt
 * failed with `invalid_state`): {@link OAuthCookieSigner.createLinkFlow} is the
 * only way to start one, and it does exactly that.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from "node:crypto";
import { PlatformError } from "@wrenn/kit";
import { parsePublicId } from "../ids/public-id.js";

/** What the user started the OAuth flow for. */
export type OAuthIntent = "login" | "signup";

/** Why a cookie was refused. All of them mean `invalid_state` to the user. */
export type OAuthCookieFailure =
  /** No cookie, not a string, too long, or not in the `a:b[:c]` shape. */
  | "malformed"
  /** The intent is neither `login` nor `signup`. */
  | "unknown_intent"
  /** The HMAC does not match (tampered, or signed with another secret). */
  | "bad_signature"
  /** The cookie is genuine but belongs to another flow than the `state` GitHub returned. */
  | "state_mismatch";

/** A new flow's state: `state` goes to GitHub in the authorize URL, `cookie` into `oauth_state`. */
export interface OAuthStart {
  readonly state: string;
  readonly cookie: string;
}

/** A link flow: the state cookie (intent `login`) plus the `oauth_link_user_id` cookie. */
export interface OAuthLinkStart extends OAuthStart {
  readonly linkCookie: string;
}

/** Longest cookie value accepted (browsers cap a cookie near 4 KiB). */
export const MAX_OAUTH_COOKIE_LENGTH = 4096;

const STATE_RE = /^[0-9a-f]{32}$/;
const MAC_RE = /^[0-9a-f]{64}$/;

/** Creates and checks the OAuth cookies with one secret. */
export class OAuthCookieSigner {
  readonly #key: KeyObject;

  /** @param secret the JWT secret (`JWT_SECRET`), at least 32 characters. */
  constructor(secret: string) {
    if (typeof secret !== "string" || secret.length < 32) {
      throw new PlatformError(
        "invalid_argument",
        "OAUTH_SECRET_TOO_SHORT",
        "the OAuth HMAC secret must be at least 32 characters",
      );
    }
    this.#key = createSecretKey(Buffer.from(secret, "utf8"));
  }

  /** Starts a login or signup flow: a random 16-byte hex state and its cookie. */
  createState(intent: OAuthIntent): OAuthStart {
    if (intent !== "login" && intent !== "signup") throw new TypeError("createState: intent must be login or signup");
    const state = randomBytes(16).toString("hex");
    return { state, cookie: `${state}:${this.#mac(`${state}:${intent}`)}:${intent}` };
  }

  /**
   * Checks the `oauth_state` cookie against the `state` query parameter GitHub
   * sent back, and returns the intent it was started with. Never throws.
   */
  verifyState(
    cookie: unknown,
    returnedState: unknown,
  ): { ok: true; intent: OAuthIntent } | { ok: false; reason: OAuthCookieFailure } {
    if (typeof cookie !== "string" || cookie.length > MAX_OAUTH_COOKIE_LENGTH)
      return { ok: false, reason: "malformed" };
    const parts = cookie.split(":");
    if (parts.length !== 3) return { ok: false, reason: "malformed" };
    const [state, mac, intent] = parts as [string, string, string];
    if (!STATE_RE.test(state)) return { ok: false, reason: "malformed" };
    if (intent !== "login" && intent !== "signup") return { ok: false, reason: "unknown_intent" };
    if (!this.#macMatches(`${state}:${intent}`, mac)) return { ok: false, reason: "bad_signature" };
    if (typeof returnedState !== "string" || !STATE_RE.test(returnedState))
      return { ok: false, reason: "state_mismatch" };
    if (!timingSafeEqual(Buffer.from(state), Buffer.from(returnedState)))
      return { ok: false, reason: "state_mismatch" };
    return { ok: true, intent };
  }

  /**
   * Starts a flow that links GitHub to the signed-in user `userId` (`usr-…`):
   * an intent-`login` state cookie plus the link cookie.
   * @throws TypeError when `userId` is not a `usr-` public id.
   */
  createLinkFlow(userId: string): OAuthLinkStart {
    if (!parsePublicId("user", userId).ok) throw new TypeError("createLinkFlow: userId must be a usr- public id");
    return { ...this.createState("login"), linkCookie: `${userId}:${this.#mac(userId)}` };
  }

  /** Checks an `oauth_link_user_id` cookie and returns the user it names. Never throws. */
  verifyLinkCookie(
    cookie: unknown,
  ):
    | { ok: true; userId: string; userUuid: string }
    | { ok: false; reason: Exclude<OAuthCookieFailure, "unknown_intent" | "state_mismatch"> } {
    if (typeof cookie !== "string" || cookie.length > MAX_OAUTH_COOKIE_LENGTH)
      return { ok: false, reason: "malformed" };
    const parts = cookie.split(":");
    if (parts.length !== 2) return { ok: false, reason: "malformed" };
    const [userId, mac] = parts as [string, string];
    const user = parsePublicId("user", userId);
    if (!user.ok) return { ok: false, reason: "malformed" };
    if (!this.#macMatches(userId, mac)) return { ok: false, reason: "bad_signature" };
    return { ok: true, userId, userUuid: user.uuid };
  }

  #mac(input: string): string {
    return createHmac("sha256", this.#key).update(input, "utf8").digest("hex");
  }

  #macMatches(input: string, presented: string): boolean {
    if (!MAC_RE.test(presented)) return false;
    return timingSafeEqual(Buffer.from(this.#mac(input), "hex"), Buffer.from(presented, "hex"));
  }
}
