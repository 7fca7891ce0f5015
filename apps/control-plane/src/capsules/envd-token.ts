import { createHmac, hkdfSync } from "node:crypto";

/**
 * Per-capsule envd access tokens. envd, once given a token at `/init`,
 * refuses every request without it — so a capsule's envd port reached
 * through the public port proxy (`49983-{id}.{domain}`) is not an open door.
 * Tokens are derived (HMAC of the capsule id under a key derived from the
 * server secret), so nothing is stored and every resume hands envd the same
 * token again. Changing the server secret changes the tokens of new capsules
 * and of capsules on their next resume.
 */
export class EnvdTokens {
  readonly #key: Buffer;

  constructor(serverSecret: string) {
    this.#key = Buffer.from(hkdfSync("sha256", serverSecret, "wrenn", "envd access token v1", 32));
  }

  /** The token of the capsule with this public id (`cl-…`): 64 hex characters. */
  forCapsule(publicId: string): string {
    return createHmac("sha256", this.#key).update(publicId).digest("hex");
  }
}
