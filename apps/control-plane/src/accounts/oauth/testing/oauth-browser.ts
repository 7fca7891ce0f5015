/**
 * A minimal browser for OAuth tests: keeps the control plane's cookies,
 * follows the dance between the control plane and the fake GitHub by hand
 * (so every hop can be asserted), and stops at the redirect to the dashboard.
 */
import assert from "node:assert/strict";
import { TEST_PUBLIC_URL } from "../../testing/accounts-app.js";

/** A cookie as the last `Set-Cookie` for its name said. */
export interface SetCookie {
  readonly value: string;
  /** Lowercased attribute names → values (`""` for flags such as `httponly`). */
  readonly attributes: ReadonlyMap<string, string>;
}

/** Parses one `Set-Cookie` header value. */
export function parseSetCookie(header: string): { name: string; cookie: SetCookie } {
  const [pair = "", ...attrs] = header.split(";");
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf("=");
    attributes.set((i < 0 ? a : a.slice(0, i)).trim().toLowerCase(), i < 0 ? "" : a.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), cookie: { value: decodeURIComponent(pair.slice(eq + 1)), attributes } };
}

/** A cookie jar for the control plane's origin, and the hops of one flow. */
export class OAuthBrowser {
  /** Cookies currently held (deleted ones removed). */
  readonly jar = new Map<string, string>();
  /** Every cookie set by the last control-plane response, deletions included. */
  lastSet = new Map<string, SetCookie>();
  readonly #base: string;

  /** @param base the control plane's real address (`http://127.0.0.1:port`). */
  constructor(base: string) {
    this.#base = base;
  }

  /** GET on the control plane with the jar's cookies; records and applies `Set-Cookie`. Returns the response. */
  async visit(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
    const res = await fetch(`${this.#base}${path}`, {
      redirect: "manual",
      headers: { ...headers, ...(cookie === "" ? {} : { cookie }) },
    });
    this.lastSet = new Map();
    for (const header of res.headers.getSetCookie()) {
      const { name, cookie: set } = parseSetCookie(header);
      this.lastSet.set(name, set);
      if (set.attributes.get("max-age") === "0") this.jar.delete(name);
      else this.jar.set(name, set.value);
    }
    return res;
  }

  /**
   * From a URL at the fake GitHub's consent page: lets GitHub redirect back,
   * checks it targets the control plane's public callback URL, then visits
   * that callback. Returns the control plane's final redirect.
   */
  async authorizeAndReturn(authorizeUrl: string, headers: Record<string, string> = {}): Promise<URL> {
    const atGitHub = await fetch(authorizeUrl, { redirect: "manual" });
    assert.equal(atGitHub.status, 302, "GitHub redirects back");
    const back = new URL(atGitHub.headers.get("location") ?? "");
    assert.equal(`${back.origin}${back.pathname}`, `${TEST_PUBLIC_URL}/auth/oauth/github/callback`);
    const res = await this.visit(`${back.pathname}${back.search}`, headers);
    assert.equal(res.status, 302, "the callback always redirects");
    assert.equal(res.headers.get("cache-control"), "no-store");
    return new URL(res.headers.get("location") ?? "");
  }

  /** Starts a sign-in (`intent`) at the control plane and returns the GitHub URL it redirects to. */
  async start(intent: "login" | "signup" | undefined, headers: Record<string, string> = {}): Promise<string> {
    const res = await this.visit(`/auth/oauth/github${intent === undefined ? "" : `?intent=${intent}`}`, headers);
    assert.equal(res.status, 302, `redirect to GitHub, got ${res.status}`);
    return res.headers.get("location") ?? "";
  }
}
