/**
 * `$WRENN_DIR/host-credentials.json`: what registration returned, reused on every start
 * without `--register`. Holds secrets (host JWT, refresh token, TLS key): mode 0600, written
 * to a temp file and renamed so a crash never leaves half of it.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { PlatformError } from "@wrenn/kit";

/** The saved registration (field names as in the reference's file). */
export interface HostCredentials {
  readonly host_id: string;
  /** Host JWT, sent as `X-Host-Token`. */
  readonly jwt: string;
  readonly refresh_token: string;
  /** PEM; empty in a legacy file (raw JWT only). */
  readonly cert_pem: string;
  readonly key_pem: string;
  readonly ca_cert_pem: string;
}

/** Whether the credentials carry TLS material for the agent's server. */
export function hasTlsMaterial(c: HostCredentials): boolean {
  return c.cert_pem !== "" && c.key_pem !== "" && c.ca_cert_pem !== "";
}

/** The `host_id` claim of a JWT (no signature check: the agent only needs its own id). */
function hostIdFromJwt(jwt: string): string | undefined {
  const payload = jwt.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { host_id?: unknown };
    return typeof claims.host_id === "string" ? claims.host_id : undefined;
  } catch {
    return undefined;
  }
}

function invalid(): PlatformError {
  // Never echo the file: it is full of secrets.
  return new PlatformError(
    "failed_precondition",
    "BAD_CREDENTIALS_FILE",
    "host-credentials.json is not valid; register again with --register",
  );
}

/** PURE: parses the file's text; a legacy file holding only the JWT is accepted. */
export function parseCredentials(text: string): HostCredentials {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    const host_id = hostIdFromJwt(trimmed);
    if (!host_id) throw invalid();
    return { host_id, jwt: trimmed, refresh_token: "", cert_pem: "", key_pem: "", ca_cert_pem: "" };
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw invalid();
  }
  const str = (k: keyof HostCredentials): string => {
    const x = v[k];
    if (x === undefined || x === null) return "";
    if (typeof x !== "string") throw invalid();
    return x;
  };
  const creds: HostCredentials = {
    host_id: str("host_id"),
    jwt: str("jwt"),
    refresh_token: str("refresh_token"),
    cert_pem: str("cert_pem"),
    key_pem: str("key_pem"),
    ca_cert_pem: str("ca_cert_pem"),
  };
  if (creds.host_id === "" || creds.jwt === "") throw invalid();
  return creds;
}

/** Reads the file; undefined when there is none. */
export async function loadCredentials(path: string): Promise<HostCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return parseCredentials(text);
}

/** Writes the file atomically with mode 0600. */
export async function saveCredentials(path: string, creds: HostCredentials): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Deletes the file (the control plane no longer knows this host). */
export async function deleteCredentials(path: string): Promise<void> {
  await rm(path, { force: true });
}
