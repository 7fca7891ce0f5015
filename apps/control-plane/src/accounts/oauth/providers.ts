/** The OAuth providers the platform knows (only GitHub, as in the reference). */

/** A provider name as stored in `oauth_providers.provider` and used in URLs. */
export type OAuthProvider = "github";

const KNOWN: ReadonlySet<string> = new Set<OAuthProvider>(["github"]);

/** True for a provider this control plane implements (configured or not). */
export function isKnownProvider(name: string): name is OAuthProvider {
  return KNOWN.has(name);
}
