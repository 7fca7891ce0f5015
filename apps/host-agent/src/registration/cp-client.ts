/**
 * The agent's three calls to the control plane (inventory §5.15): register, heartbeat,
 * refresh. Plain JSON over HTTP(S) with a deadline each; errors name the call and the status,
 * never a token.
 */
import { PlatformError } from "@wrenn/kit";
import type { HostCredentials } from "./credentials.js";
import type { HostFacts } from "./host-facts.js";

/** How one heartbeat went. */
export type HeartbeatOutcome =
  | { readonly kind: "ok" }
  /** 401/403: the JWT expired or was revoked; refresh it. */
  | { readonly kind: "unauthorized"; readonly status: number }
  /** 404: the control plane deleted this host. */
  | { readonly kind: "gone" }
  /** No answer (network, timeout) or a server error: the control plane is unreachable. */
  | { readonly kind: "failed"; readonly reason: string };

/** Options of {@link ControlPlaneClient}. */
export interface ControlPlaneClientOptions {
  /** `WRENN_CP_URL` without a trailing slash. */
  readonly baseUrl: string;
  /** Deadline of each call. @default 10_000 */
  readonly timeoutMs?: number;
}

interface TokenResponse {
  host?: { id?: unknown };
  token?: unknown;
  refresh_token?: unknown;
  cert_pem?: unknown;
  key_pem?: unknown;
  ca_cert_pem?: unknown;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Client of the control plane's host endpoints. */
export class ControlPlaneClient {
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(o: ControlPlaneClientOptions) {
    this.#base = o.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = o.timeoutMs ?? 10_000;
  }

  async #post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.#base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
  }

  /** `POST /v1/hosts/register` → the credentials to save. */
  async register(token: string, facts: HostFacts, address: string): Promise<HostCredentials> {
    const res = await this.#post("/v1/hosts/register", { token, ...facts, address }).catch((err: unknown) => {
      throw unreachable("registration", err);
    });
    if (res.status !== 201 && res.status !== 200) throw await refused("registration", res);
    const body = (await res.json()) as TokenResponse;
    const creds = toCredentials(body, undefined);
    if (!creds)
      throw new PlatformError(
        "internal",
        "BAD_CP_ANSWER",
        "the control plane's registration answer lacks host id or tokens",
      );
    return creds;
  }

  /** `POST /v1/hosts/{id}/heartbeat` with `X-Host-Token`. Never throws. */
  async heartbeat(creds: HostCredentials): Promise<HeartbeatOutcome> {
    let res: Response;
    try {
      res = await this.#post(`/v1/hosts/${encodeURIComponent(creds.host_id)}/heartbeat`, undefined, {
        "x-host-token": creds.jwt,
      });
      await res.body?.cancel();
    } catch (err) {
      return {
        kind: "failed",
        reason: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err),
      };
    }
    if (res.status >= 200 && res.status < 300) return { kind: "ok" };
    if (res.status === 401 || res.status === 403) return { kind: "unauthorized", status: res.status };
    if (res.status === 404) return { kind: "gone" };
    return { kind: "failed", reason: `HTTP ${res.status}` };
  }

  /** `POST /v1/hosts/auth/refresh` → rotated tokens and a new certificate (kept if absent). */
  async refresh(previous: HostCredentials): Promise<HostCredentials> {
    if (previous.refresh_token === "") {
      throw new PlatformError(
        "unauthenticated",
        "NO_REFRESH_TOKEN",
        "no refresh token saved; register again with --register",
      );
    }
    const res = await this.#post("/v1/hosts/auth/refresh", { refresh_token: previous.refresh_token }).catch(
      (err: unknown) => {
        throw unreachable("token refresh", err);
      },
    );
    if (res.status !== 200 && res.status !== 201) throw await refused("token refresh", res);
    const creds = toCredentials((await res.json()) as TokenResponse, previous);
    if (!creds) throw new PlatformError("internal", "BAD_CP_ANSWER", "the control plane's refresh answer lacks tokens");
    return creds;
  }
}

function toCredentials(b: TokenResponse, previous: HostCredentials | undefined): HostCredentials | undefined {
  const host_id = str(b.host?.id) || previous?.host_id || "";
  const jwt = str(b.token);
  const refresh_token = str(b.refresh_token);
  if (host_id === "" || jwt === "" || refresh_token === "") return undefined;
  return {
    host_id,
    jwt,
    refresh_token,
    cert_pem: str(b.cert_pem) || previous?.cert_pem || "",
    key_pem: str(b.key_pem) || previous?.key_pem || "",
    ca_cert_pem: str(b.ca_cert_pem) || previous?.ca_cert_pem || "",
  };
}

function unreachable(what: string, err: unknown): PlatformError {
  return new PlatformError("unavailable", "CP_UNREACHABLE", `${what}: the control plane did not answer`, {
    cause: err,
  });
}

async function refused(what: string, res: Response): Promise<PlatformError> {
  // The control plane's error body is {code, message}: its message is safe to pass on.
  const text = await res.text().catch(() => "");
  let message = "";
  try {
    const m = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    message = str(m.message) || str(m.error?.message);
  } catch {
    // Not JSON.
  }
  const code =
    res.status === 401 || res.status === 403
      ? "unauthenticated"
      : res.status === 404
        ? "not_found"
        : "failed_precondition";
  return new PlatformError(
    code,
    "CP_REFUSED",
    `${what} refused by the control plane (HTTP ${res.status})${message ? `: ${message.slice(0, 200)}` : ""}`,
  );
}
