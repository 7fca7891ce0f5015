/**
 * GitHub's OAuth web flow, client side: the authorize URL, the code exchange
 * and the profile lookup (scope `user:email`). The base URLs are options so
 * tests run the flow against a local fake of GitHub; nothing here reads the
 * environment.
 */
import { PlatformError } from "@wrenn/kit";

/** A GitHub OAuth app and where GitHub is. */
export interface GitHubOAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Base of the browser-facing endpoints (`/login/oauth/*`). @default "https://github.com" */
  readonly webUrl?: string;
  /** Base of the REST API (`/user`, `/user/emails`). @default "https://api.github.com" */
  readonly apiUrl?: string;
  /** Deadline of each call to GitHub. @default 10 000 ms */
  readonly timeoutMs?: number;
}

/** Who signed in at GitHub. */
export interface GitHubProfile {
  /** GitHub's numeric account id, as text (stable across login renames). */
  readonly id: string;
  readonly login: string;
  /** The primary verified address, else the profile's public one. */
  readonly email: string;
  /** The profile name, else the login. */
  readonly name: string;
}

/** Largest GitHub response read. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Talks to GitHub (or a stand-in at the configured URLs). */
export class GitHubOAuthClient {
  readonly #config: GitHubOAuthConfig;
  readonly #webUrl: string;
  readonly #apiUrl: string;

  constructor(config: GitHubOAuthConfig) {
    this.#config = config;
    this.#webUrl = (config.webUrl ?? "https://github.com").replace(/\/+$/, "");
    this.#apiUrl = (config.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  }

  /** Where to send the browser: GitHub's consent page for this app, echoing `state` back to `redirectUri`. */
  authorizeUrl(state: string, redirectUri: string): string {
    const url = new URL(`${this.#webUrl}/login/oauth/authorize`);
    url.searchParams.set("client_id", this.#config.clientId);
    url.searchParams.set("redirect_uri", redirectUri);
    url.searchParams.set("scope", "user:email");
    url.searchParams.set("state", state);
    return url.toString();
  }

  /**
   * Trades the callback's `code` for a token and reads the profile.
   * @throws PlatformError `unavailable` / `OAUTH_EXCHANGE_FAILED` with a message naming the step (never the code or token).
   */
  async exchange(code: string, redirectUri: string): Promise<GitHubProfile> {
    const token = await this.#accessToken(code, redirectUri);
    const user = await this.#api("/user", token);
    if (!isRecord(user) || typeof user["id"] !== "number" || typeof user["login"] !== "string") {
      throw failure("GitHub /user answered without an id and login");
    }
    const login = user["login"];
    const profileName = typeof user["name"] === "string" ? user["name"].trim() : "";
    const email = (await this.#primaryEmail(token)) ?? (typeof user["email"] === "string" ? user["email"] : "");
    if (email === "") throw failure("the GitHub account has no verified email address");
    return { id: String(user["id"]), login, email, name: (profileName || login).slice(0, 100) };
  }

  async #accessToken(code: string, redirectUri: string): Promise<string> {
    const body = new URLSearchParams({
      client_id: this.#config.clientId,
      client_secret: this.#config.clientSecret,
      code,
      redirect_uri: redirectUri,
    });
    const res = await this.#fetch(`${this.#webUrl}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    const json = await readJson(res, "token exchange");
    // GitHub reports a bad code with 200 and an `error` field.
    if (!isRecord(json) || typeof json["access_token"] !== "string" || json["access_token"] === "") {
      throw failure("GitHub refused the authorization code");
    }
    return json["access_token"];
  }

  /** The primary verified address, or undefined when GitHub does not say (the caller falls back). */
  async #primaryEmail(token: string): Promise<string | undefined> {
    const emails = await this.#api("/user/emails", token).catch(() => undefined);
    if (!Array.isArray(emails)) return undefined;
    for (const entry of emails) {
      if (isRecord(entry) && entry["primary"] === true && entry["verified"] === true) {
        const email = entry["email"];
        if (typeof email === "string" && email !== "") return email;
      }
    }
    return undefined;
  }

  async #api(path: string, token: string): Promise<unknown> {
    const res = await this.#fetch(`${this.#apiUrl}${path}`, {
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "user-agent": "wrenn-control-plane",
      },
    });
    return readJson(res, `GitHub ${path}`);
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(this.#config.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw failure("GitHub could not be reached", err);
    }
  }
}

async function readJson(res: Response, what: string): Promise<unknown> {
  if (!res.ok) {
    await res.body?.cancel();
    throw failure(`${what} answered HTTP ${res.status}`);
  }
  const reader = res.body?.getReader();
  if (reader === undefined) throw failure(`${what} answered with no body`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw failure(`${what} answered with more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw failure(`${what} answered with invalid JSON`);
  }
}

function failure(message: string, cause?: unknown): PlatformError {
  return new PlatformError("unavailable", "OAUTH_EXCHANGE_FAILED", message, { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
