import { isAbsolute, join } from "node:path";

/**
 * Every environment variable the control plane reads. `loadConfig` is the only
 * reader; the rest of the code receives a frozen {@link Config}.
 */
export type ConfigEnvVar =
  /** Port of the HTTP server. @default 8080 */
  | "WRENN_PORT"
  /** Address to listen on. @default "0.0.0.0" */
  | "WRENN_LISTEN_HOST"
  /** Root of the control plane's state (embedded database, CA, outbox). @default "/var/lib/wrenn" */
  | "WRENN_DIR"
  /** A PostgreSQL URL; when unset the embedded PGlite database under `$WRENN_DIR/pgdata` is used. */
  | "DATABASE_URL"
  /** HS256 secret for user and host JWTs and OAuth HMACs; at least 32 characters. Required. */
  | "JWT_SECRET"
  /** PEM files of the internal CA that signs host and control-plane certificates. @default "$WRENN_DIR/ca/ca.pem" */
  | "WRENN_CA_CERT"
  | "WRENN_CA_KEY"
  /** Domain of the sandbox port proxy: `{port}-{id}.{domain}`. @default "localhost" */
  | "WRENN_DOMAIN"
  /** Public URL of this control plane (OAuth callback base). @default "http://localhost:$WRENN_PORT" */
  | "WRENN_PUBLIC_URL"
  /** Base URL of the dashboard for activation / reset links and OAuth redirects. @default the public URL */
  | "OAUTH_REDIRECT_URL"
  /** GitHub OAuth app; GitHub sign-in is enabled only when both are set. */
  | "OAUTH_GITHUB_CLIENT_ID"
  | "OAUTH_GITHUB_CLIENT_SECRET"
  /** 64 hex characters (32 bytes) for AES-256-GCM encryption of channel secrets. Required. */
  | "WRENN_ENCRYPTION_KEY"
  /** Where email goes: `smtp` (needs SMTP_HOST), `outbox` (a file under `$WRENN_DIR`), `log`. @default smtp when SMTP_HOST is set, else outbox */
  | "WRENN_MAIL"
  | "SMTP_HOST"
  /** @default 587 (465 = implicit TLS) */
  | "SMTP_PORT"
  | "SMTP_USERNAME"
  | "SMTP_PASSWORD"
  /** @default "noreply@wrenn.dev" */
  | "SMTP_FROM_EMAIL"
  /** debug | info | warn | error | silent. @default info */
  | "LOG_LEVEL";

/** Log levels the control plane accepts. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** How transactional email leaves the control plane. */
export type MailConfig =
  | {
      readonly kind: "smtp";
      readonly host: string;
      readonly port: number;
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly from: string;
    }
  | { readonly kind: "outbox"; readonly path: string; readonly from: string }
  | { readonly kind: "log"; readonly from: string };

/** The validated, frozen configuration of one control-plane process. */
export interface Config {
  readonly port: number;
  readonly listenHost: string;
  readonly wrennDir: string;
  /** A PostgreSQL URL, or `undefined` for embedded PGlite in {@link Config.pgliteDir}. */
  readonly databaseUrl: string | undefined;
  readonly pgliteDir: string;
  readonly jwtSecret: string;
  readonly caCertPath: string;
  readonly caKeyPath: string;
  readonly domain: string;
  readonly publicUrl: string;
  readonly dashboardUrl: string;
  readonly github: { readonly clientId: string; readonly clientSecret: string } | undefined;
  readonly encryptionKey: Buffer;
  readonly mail: MailConfig;
  readonly logLevel: LogLevel;
}

/** Thrown by {@link loadConfig} with every problem found, one per line, naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

type Env = Readonly<Partial<Record<ConfigEnvVar, string>>> | NodeJS.ProcessEnv;

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/**
 * Reads and validates the control plane's configuration from `env`. Pure: it
 * never touches `process.env` itself, so tests pass literal objects. Secret
 * values never appear in error messages.
 */
export function loadConfig(env: Env): Readonly<Config> {
  const problems: string[] = [];
  const get = (name: ConfigEnvVar): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };

  const port = parsePort(get("WRENN_PORT") ?? "8080", problems);
  const wrennDir = get("WRENN_DIR") ?? "/var/lib/wrenn";
  if (!isAbsolute(wrennDir)) problems.push("WRENN_DIR must be an absolute path");

  const jwtSecret = get("JWT_SECRET") ?? "";
  if (jwtSecret.length < 32) problems.push("JWT_SECRET must be set to at least 32 characters");

  const encryptionKeyHex = get("WRENN_ENCRYPTION_KEY") ?? "";
  if (!/^[0-9a-fA-F]{64}$/.test(encryptionKeyHex)) {
    problems.push("WRENN_ENCRYPTION_KEY must be 64 hex characters (32 bytes)");
  }

  const databaseUrl = get("DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }

  const domain = (get("WRENN_DOMAIN") ?? "localhost").toLowerCase();
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(domain)) problems.push("WRENN_DOMAIN must be a host name");

  const publicUrl = stripSlash(get("WRENN_PUBLIC_URL") ?? `http://localhost:${port}`);
  checkHttpUrl("WRENN_PUBLIC_URL", publicUrl, problems);
  const dashboardUrl = stripSlash(get("OAUTH_REDIRECT_URL") ?? publicUrl);
  checkHttpUrl("OAUTH_REDIRECT_URL", dashboardUrl, problems);

  const githubId = get("OAUTH_GITHUB_CLIENT_ID");
  const githubSecret = get("OAUTH_GITHUB_CLIENT_SECRET");
  if ((githubId === undefined) !== (githubSecret === undefined)) {
    problems.push("OAUTH_GITHUB_CLIENT_ID and OAUTH_GITHUB_CLIENT_SECRET must be set together");
  }

  const logLevel = (get("LOG_LEVEL") ?? "info").toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const mail = parseMail(get, wrennDir, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({
    port,
    listenHost: get("WRENN_LISTEN_HOST") ?? "0.0.0.0",
    wrennDir,
    databaseUrl,
    pgliteDir: join(wrennDir, "pgdata"),
    jwtSecret,
    caCertPath: get("WRENN_CA_CERT") ?? join(wrennDir, "ca", "ca.pem"),
    caKeyPath: get("WRENN_CA_KEY") ?? join(wrennDir, "ca", "ca-key.pem"),
    domain,
    publicUrl,
    dashboardUrl,
    github:
      githubId !== undefined && githubSecret !== undefined
        ? { clientId: githubId, clientSecret: githubSecret }
        : undefined,
    encryptionKey: Buffer.from(encryptionKeyHex, "hex"),
    mail,
    logLevel,
  });
}

function parseMail(get: (name: ConfigEnvVar) => string | undefined, wrennDir: string, problems: string[]): MailConfig {
  const from = get("SMTP_FROM_EMAIL") ?? "noreply@wrenn.dev";
  const host = get("SMTP_HOST");
  const kind = get("WRENN_MAIL") ?? (host !== undefined ? "smtp" : "outbox");
  if (kind === "outbox") return { kind, path: join(wrennDir, "outbox.jsonl"), from };
  if (kind === "log") return { kind, from };
  if (kind !== "smtp") {
    problems.push("WRENN_MAIL must be smtp, outbox or log");
    return { kind: "log", from };
  }
  if (host === undefined) problems.push("SMTP_HOST must be set when WRENN_MAIL=smtp");
  const port = parsePort(get("SMTP_PORT") ?? "587", problems, "SMTP_PORT");
  return {
    kind,
    host: host ?? "",
    port,
    username: get("SMTP_USERNAME"),
    password: get("SMTP_PASSWORD"),
    from,
  };
}

function parsePort(text: string, problems: string[], name = "WRENN_PORT"): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`${name} must be an integer from 1 to 65535`);
    return 0;
  }
  return port;
}

function checkHttpUrl(name: string, value: string, problems: string[]): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    problems.push(`${name} must be an http(s) URL`);
  }
}

function stripSlash(url: string): string {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
