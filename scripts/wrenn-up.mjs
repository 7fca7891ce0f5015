#!/usr/bin/env node
// `./wrenn up | down | status`: runs the whole platform on this machine — the
// control plane (embedded PGlite unless DATABASE_URL is set) and a local host
// agent registered with it over the real API — as background processes with
// PID files and logs under $WRENN_DIR. Called by ./wrenn after it has
// installed and built everything.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const wrennDir = process.env.WRENN_DIR || "/var/lib/wrenn";
const port = Number(process.env.WRENN_PORT || "8080");
const agentPort = Number(process.env.WRENN_AGENT_PORT || "50051");
const url = `http://127.0.0.1:${port}`;
const runDir = join(wrennDir, "run");
const logDir = join(wrennDir, "logs");
const files = {
  env: join(wrennDir, "control-plane.env"),
  bootstrap: join(wrennDir, "bootstrap.json"),
  credentials: join(wrennDir, "host-credentials.json"),
  cpPid: join(runDir, "control-plane.pid"),
  agentPid: join(runDir, "host-agent.pid"),
  cpLog: join(logDir, "control-plane.log"),
  agentLog: join(logDir, "host-agent.log"),
};

const say = (m) => process.stderr.write(`\x1b[1m==> ${m}\x1b[0m\n`);
class UpError extends Error {}

function alive(pidFile) {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Secrets of this installation, generated once (mode 0600). */
function controlPlaneEnv() {
  if (!existsSync(files.env)) {
    const lines = [
      `JWT_SECRET=${randomBytes(32).toString("hex")}`,
      `WRENN_ENCRYPTION_KEY=${randomBytes(32).toString("hex")}`,
    ];
    writeFileSync(files.env, `${lines.join("\n")}\n`, { mode: 0o600 });
  }
  const env = {};
  for (const line of readFileSync(files.env, "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function startDetached(name, args, env, logFile, pidFile) {
  const out = openSync(logFile, "a", 0o600);
  const child = spawn(process.execPath, args, { cwd: root, env, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  writeFileSync(pidFile, `${child.pid}\n`);
  child.unref();
  say(`started ${name} (pid ${child.pid}, log ${logFile})`);
  return child.pid;
}

function tail(file, lines = 25) {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

async function waitFor(what, check, pidFile, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (pidFile && alive(pidFile) === undefined) {
      throw new UpError(`${what} exited during start. Last lines of ${logFile}:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new UpError(
    `${what} did not become ready in ${timeoutMs / 1000} s. Last lines of ${logFile}:\n${tail(logFile)}`,
  );
}

async function api(path, init = {}) {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
  const text = await res.text();
  if (!res.ok) throw new UpError(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function up(detach) {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const cpEnv = {
    ...process.env,
    ...controlPlaneEnv(),
    WRENN_DIR: wrennDir,
    WRENN_PORT: String(port),
    WRENN_PUBLIC_URL: process.env.WRENN_PUBLIC_URL || `http://localhost:${port}`,
  };
  if (alive(files.cpPid) === undefined) {
    startDetached(
      "control plane",
      ["apps/control-plane/dist/main.js", "--bootstrap", files.bootstrap],
      cpEnv,
      files.cpLog,
      files.cpPid,
    );
  } else say("control plane already running");
  await waitFor("the control plane", async () => (await fetch(`${url}/health`)).ok, files.cpPid, files.cpLog, 120_000);
  if (!existsSync(files.bootstrap)) {
    throw new UpError(
      `${files.bootstrap} is missing: the database already had users. Remove ${wrennDir}/pgdata to start over.`,
    );
  }
  const creds = JSON.parse(readFileSync(files.bootstrap, "utf8"));
  const session = await api("/v1/auth/login", {
    method: "POST",
    body: JSON.stringify({ email: creds.email, password: creds.password }),
  });
  const auth = { authorization: `Bearer ${session.token}` };

  if (alive(files.agentPid) === undefined) {
    const args = [
      "apps/host-agent/dist/main.js",
      "--cp-url",
      url,
      "--address",
      `127.0.0.1:${agentPort}`,
      "--listen",
      `127.0.0.1:${agentPort}`,
    ];
    if (!existsSync(files.credentials)) {
      say("registering the local host agent");
      const created = await api("/v1/hosts", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ type: "regular" }),
      });
      args.push("--register", created.registration_token);
    }
    startDetached("host agent", args, { ...process.env, WRENN_DIR: wrennDir }, files.agentLog, files.agentPid);
  } else say("host agent already running");
  say("waiting for the host agent (the first start builds the guest image: a few minutes)");
  await waitFor(
    "the host agent",
    async () => {
      const hosts = await api("/v1/hosts", { headers: auth });
      return hosts.some((h) => h.status === "online");
    },
    files.agentPid,
    files.agentLog,
    30 * 60_000,
  );

  process.stdout.write(`
Wrenn is running.

  API        ${creds.url}        (docs: ${creds.url}/docs)
  admin      ${creds.email}
  password   ${creds.password}
  API key    ${creds.api_key}

  Credentials are in ${files.bootstrap} (mode 0600). Try:
    curl -s -X POST ${creds.url}/v1/capsules -H 'X-API-Key: ${creds.api_key}'

  Logs: ${logDir}    Stop: ./wrenn down    Status: ./wrenn status
`);
  if (detach) return;
  say("running in the foreground; Ctrl-C stops everything (use ./wrenn up -d to leave it running)");
  await new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await down();
}

async function stop(name, pidFile) {
  const pid = alive(pidFile);
  if (pid === undefined) return say(`${name} is not running`);
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 120 && alive(pidFile) !== undefined; i++) await new Promise((r) => setTimeout(r, 500));
  if (alive(pidFile) !== undefined) {
    say(`${name} (pid ${pid}) did not stop in 60 s; sending SIGKILL`);
    process.kill(pid, "SIGKILL");
  }
  say(`stopped ${name}`);
}

async function down() {
  // The agent first: it destroys its capsules while the control plane can still hear about it.
  await stop("host agent", files.agentPid);
  await stop("control plane", files.cpPid);
}

async function status() {
  const cp = alive(files.cpPid);
  const agent = alive(files.agentPid);
  const health = await fetch(`${url}/health`).then(
    (r) => (r.ok ? "healthy" : `HTTP ${r.status}`),
    () => "unreachable",
  );
  process.stdout.write(
    `control plane  ${cp ? `running (pid ${cp})` : "stopped"}  ${url}  ${health}\n` +
      `host agent     ${agent ? `running (pid ${agent})` : "stopped"}  127.0.0.1:${agentPort}\n` +
      `state          ${wrennDir}\n`,
  );
  return cp && agent && health === "healthy" ? 0 : 3;
}

const [command, ...rest] = process.argv.slice(2);
const run = { up: () => up(rest.includes("-d") || rest.includes("--detach")), down, status }[command];
if (!run) {
  process.stderr.write("usage: wrenn-up.mjs up [-d] | down | status\n");
  process.exit(2);
}
run().then(
  (code) => process.exit(typeof code === "number" ? code : 0),
  (err) => {
    process.stderr.write(`wrenn ${command}: ${err instanceof UpError ? err.message : err.stack}\n`);
    process.exit(1);
  },
);
