/**
 * Runs the private PostgreSQL cluster of one test run. Started detached by
 * postgres-server.ts as `node --import tsx postgres-server-supervisor.ts <stateDir> <ownerPid>`:
 *   1. removes clusters left behind by earlier runs that died (owner gone),
 *   2. initdb + postgres (as the `postgres` user when root) in <stateDir>,
 *      unix socket only, fsync off,
 *   3. creates the migrated template database,
 *   4. writes <stateDir>/ready.json (or failed.txt),
 *   5. when the owner (the `node --test` runner) exits: stops the server by
 *      PID and removes <stateDir>.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chownSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive } from "@wrenn/kit";
import type { Database } from "../db/database.js";
import { migrateUp } from "../db/migrator.js";
import { openPostgresDatabase } from "../db/postgres-database.js";
import { findPostgresBinaries, type ServerAccount, serverAccount } from "./postgres-binaries.js";
import {
  FAILED_FILE,
  type PostgresServerInfo,
  READY_FILE,
  STATE_DIR_PREFIX,
  SUPERVISOR_PID_FILE,
  serverUrl,
  TEMPLATE_DATABASE,
} from "./postgres-server-state.js";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

const [stateDir = "", ownerArg = ""] = process.argv.slice(2);
const ownerPid = Number(ownerArg);
let server: ChildProcess | undefined;
let serverExited: Promise<void> = Promise.resolve();
let stopping = false;

function readOr(path: string, fallback = ""): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Removes state dirs of runs whose owner and supervisor are both gone, killing an orphaned server by its PID. */
function sweepLeftovers(): void {
  for (const entry of readdirSync(tmpdir())) {
    const match = new RegExp(`^${STATE_DIR_PREFIX}(\\d+)$`).exec(entry);
    const dir = join(tmpdir(), entry);
    if (!match || dir === stateDir || processAlive(Number(match[1]))) continue;
    const supervisor = Number(readOr(join(dir, SUPERVISOR_PID_FILE)).trim() || "0");
    if (supervisor > 0 && processAlive(supervisor)) continue;
    const serverPid = Number(readOr(join(dir, "data", "postmaster.pid")).split("\n")[0] || "0");
    // Only a process whose command line names this data directory is ours to kill.
    if (serverPid > 0 && processAlive(serverPid)) {
      const cmdline = readOr(`/proc/${serverPid}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(join(dir, "data"))) process.kill(serverPid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function ownedDir(path: string, account: ServerAccount | undefined): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (account) chownSync(path, account.uid, account.gid);
  return path;
}

async function run(command: string, args: string[], account: ServerAccount | undefined): Promise<void> {
  const child = spawn(command, args, {
    uid: account?.uid,
    gid: account?.gid,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`${command} exited with ${code}:\n${output.trim()}`);
}

function logTail(): string {
  return readOr(join(stateDir, "postgres.log"), "(no server log)").split("\n").slice(-20).join("\n");
}

async function connectWhenReady(url: string): Promise<Database> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void serverExited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`postgres exited during startup:\n${logTail()}`);
    try {
      return await openPostgresDatabase({ connectionString: url, maxConnections: 1 });
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`postgres did not accept connections within 60 s:\n${logTail()}`, { cause: err });
      await sleep(100);
    }
  }
}

async function start(): Promise<PostgresServerInfo> {
  const binaries = findPostgresBinaries(process.env["WRENN_PG_BIN"]);
  const account = serverAccount();
  const dataDir = join(stateDir, "data");
  const socketDir = ownedDir(join(stateDir, "sock"), account);
  ownedDir(dataDir, account);
  await run(
    binaries.initdb,
    ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    account,
  );
  const log = openSync(join(stateDir, "postgres.log"), "a");
  // Throwaway data: no fsync, no TCP listener (only the socket in our private directory).
  const settings = [
    "listen_addresses=",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
  ];
  server = spawn(binaries.postgres, ["-D", dataDir, "-k", socketDir, ...settings.flatMap((s) => ["-c", s])], {
    uid: account?.uid,
    gid: account?.gid,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C" },
    stdio: ["ignore", log, log],
  });
  const child = server;
  serverExited = new Promise((resolve) => child.once("exit", () => resolve()));
  const info: PostgresServerInfo = {
    socketDir,
    user: "postgres",
    templateDatabase: TEMPLATE_DATABASE,
    version: binaries.version,
    serverPid: child.pid ?? 0,
    supervisorPid: process.pid,
  };
  const admin = await connectWhenReady(serverUrl(info, "postgres"));
  try {
    await admin.exec(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    const template = await openPostgresDatabase({ connectionString: serverUrl(info, TEMPLATE_DATABASE) });
    try {
      await migrateUp(template);
    } finally {
      await template.close();
    }
    // Nobody may connect to it: CREATE DATABASE … TEMPLATE fails while the template has sessions.
    await admin.exec(`ALTER DATABASE ${TEMPLATE_DATABASE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  } finally {
    await admin.close();
  }
  return info;
}

async function writeAtomically(name: string, text: string): Promise<void> {
  const tmp = join(stateDir, `.${name}.tmp`);
  await writeFile(tmp, text);
  renameSync(tmp, join(stateDir, name));
}

async function stopServer(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT"); // PostgreSQL "fast" shutdown: ends sessions, exits cleanly.
  const stopped = await Promise.race([serverExited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!stopped) {
    child.kill("SIGKILL");
    await serverExited;
  }
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopServer().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
  process.exit(code);
}

async function main(): Promise<void> {
  if (!stateDir || !Number.isInteger(ownerPid) || ownerPid <= 0) {
    throw new Error("usage: postgres-server-supervisor.ts <stateDir> <ownerPid>");
  }
  await writeFile(join(stateDir, SUPERVISOR_PID_FILE), `${process.pid}\n`);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));
  const watch = setInterval(() => {
    if (!processAlive(ownerPid)) void shutdown(0);
  }, 250);
  try {
    sweepLeftovers();
    const info = await start();
    await writeAtomically(READY_FILE, JSON.stringify(info));
    void serverExited.then(() => {
      if (!stopping) void shutdown(1);
    });
  } catch (err) {
    await stopServer().catch(() => undefined);
    // Kept until the run ends, so every test file of the run reports the same cause at once.
    await writeAtomically(FAILED_FILE, err instanceof Error ? err.message : String(err));
  }
  // The interval keeps this process alive until the owner exits.
  void watch;
}

main().catch(async (err: unknown) => {
  process.stderr.write(
    `postgres-server-supervisor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  await shutdown(1);
});
