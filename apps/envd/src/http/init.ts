import { mkdir, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { posix } from "node:path";
import type { EnvdEnv } from "../env.js";
import { BodyError, readJsonBody } from "./read-json.js";
import { sendError, sendNoContent } from "./respond.js";

/** Everything `/init` accepts (camelCase JSON); every field optional. */
export interface InitRequest {
  accessToken?: string | null;
  defaultUser?: string;
  defaultWorkdir?: string;
  envVars?: Record<string, string>;
  /** RFC3339 string (E2B) or seconds since the epoch (reference). */
  timestamp?: string | number;
  /** Wrenn extension: ids written to the run dir and exported as env vars. */
  sandboxId?: string;
  templateId?: string;
}

/** Thrown for a syntactically valid body with a bad field. */
class InitValidationError extends Error {}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseInit(body: unknown): InitRequest {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw new InitValidationError("body must be a JSON object");
  const b = body as Record<string, unknown>;
  const out: InitRequest = {};
  const str = (key: string): string | undefined => {
    const v = b[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new InitValidationError(`${key} must be a string`);
    return v;
  };
  if (b["accessToken"] === null) out.accessToken = null;
  else {
    const token = str("accessToken");
    if (token !== undefined) out.accessToken = token;
  }
  const user = str("defaultUser");
  if (user !== undefined) out.defaultUser = user;
  const workdir = str("defaultWorkdir");
  if (workdir !== undefined) {
    if (workdir !== "" && !workdir.startsWith("/"))
      throw new InitValidationError("defaultWorkdir must be an absolute path");
    out.defaultWorkdir = workdir;
  }
  const sandboxId = str("sandboxId");
  if (sandboxId !== undefined) out.sandboxId = sandboxId;
  const templateId = str("templateId");
  if (templateId !== undefined) out.templateId = templateId;
  const ts = b["timestamp"];
  if (typeof ts === "string" || typeof ts === "number") out.timestamp = ts;
  else if (ts !== undefined && ts !== null) throw new InitValidationError("timestamp must be a string or a number");
  const envVars = b["envVars"];
  if (envVars !== undefined && envVars !== null) {
    if (typeof envVars !== "object" || Array.isArray(envVars))
      throw new InitValidationError("envVars must be an object");
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(envVars)) {
      if (!ENV_NAME.test(k)) throw new InitValidationError("envVars has an invalid variable name");
      if (typeof v !== "string") throw new InitValidationError("envVars values must be strings");
      vars[k] = v;
    }
    out.envVars = vars;
  }
  return out;
}

/** Milliseconds since the epoch for an /init timestamp, or undefined if unparseable. */
export function initTimestampMs(ts: string | number | undefined): number | undefined {
  if (ts === undefined) return undefined;
  if (typeof ts === "number") return Number.isFinite(ts) ? ts * 1000 : undefined;
  if (/^\d+(\.\d+)?$/.test(ts)) return Number(ts) * 1000;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Hooks /init runs once after a snapshot restore. */
export interface RestoreHooks {
  restoreAfterSnapshot(req: IncomingMessage): void;
}

/**
 * `POST /init`: the host agent hands envd its settings after every boot,
 * restore and resume. Idempotent by timestamp: an /init older than the last
 * applied one changes nothing (a retried request from before a resume must
 * not undo the newer one).
 */
export async function handleInit(
  env: EnvdEnv,
  hooks: RestoreHooks & { runDir: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let init: InitRequest;
  try {
    init = parseInit(await readJsonBody(req, 1 << 20));
  } catch (err) {
    if (err instanceof BodyError) return sendError(res, err.status, err.message);
    if (err instanceof InitValidationError) return sendError(res, 400, err.message);
    throw err;
  }
  const { state } = env;
  const at = initTimestampMs(init.timestamp);
  const stale = at !== undefined && state.lastInitAt !== undefined && at < state.lastInitAt;
  if (!stale) {
    if (init.defaultUser !== undefined && init.defaultUser !== "") {
      try {
        env.users.lookup(init.defaultUser);
      } catch {
        return sendError(res, 400, `defaultUser: unknown user '${init.defaultUser.slice(0, 64)}'`);
      }
      state.defaultUser = init.defaultUser;
    }
    if (init.defaultWorkdir !== undefined) state.defaultWorkdir = init.defaultWorkdir || undefined;
    for (const [k, v] of Object.entries(init.envVars ?? {})) state.envVars.set(k, v);
    if (init.accessToken === null || init.accessToken === "") state.accessToken = undefined;
    else if (init.accessToken !== undefined) state.accessToken = init.accessToken;
    if (init.sandboxId !== undefined) state.envVars.set("WRENN_SANDBOX_ID", init.sandboxId);
    if (init.templateId !== undefined) state.envVars.set("WRENN_TEMPLATE_ID", init.templateId);
    await writeIdFiles(hooks.runDir, init);
    if (at !== undefined) state.lastInitAt = at;
  }
  if (state.needsRestore) {
    state.needsRestore = false;
    hooks.restoreAfterSnapshot(req);
  }
  env.log.info({ stale, user: state.defaultUser }, "init applied");
  sendNoContent(res);
}

async function writeIdFiles(runDir: string, init: InitRequest): Promise<void> {
  const files: Array<[string, string | undefined]> = [
    [".WRENN_SANDBOX_ID", init.sandboxId],
    [".WRENN_TEMPLATE_ID", init.templateId],
  ];
  if (files.every(([, v]) => v === undefined)) return;
  await mkdir(runDir, { recursive: true });
  for (const [name, value] of files) {
    if (value !== undefined) await writeFile(posix.join(runDir, name), value, { mode: 0o644 });
  }
}
