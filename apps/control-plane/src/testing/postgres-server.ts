/**
 * One private PostgreSQL cluster per test run, shared by every test file.
 *
 * `node --test` runs each file in its own process, so the cluster belongs to
 * the runner (the files' parent process): the first file to need it creates
 * `${tmpdir}/wrenn-pg-<runner pid>` (mkdir is the lock) and starts a detached
 * supervisor there; every file then waits for its ready.json. The supervisor
 * stops the server and removes the directory when the runner exits. A file
 * run directly (not under `node --test`) owns a cluster of its own.
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { processAlive } from "@wrenn/kit";
import {
  FAILED_FILE,
  type PostgresServerInfo,
  READY_FILE,
  STATE_DIR_PREFIX,
  SUPERVISOR_PID_FILE,
} from "./postgres-server-state.js";

/** initdb + start + migrating the template takes a few seconds; this is far above that on a loaded machine. */
const STARTUP_TIMEOUT_MS = 120_000;

let shared: Promise<PostgresServerInfo> | undefined;

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function startSupervisor(stateDir: string, ownerPid: number): void {
  const script = fileURLToPath(new URL("./postgres-server-supervisor.ts", import.meta.url));
  const log = openSync(join(stateDir, "supervisor.log"), "a");
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), script, stateDir, String(ownerPid)], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.unref();
}

async function waitForServer(stateDir: string): Promise<PostgresServerInfo> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  const startedAt = Date.now();
  for (;;) {
    const ready = readOr(join(stateDir, READY_FILE));
    if (ready !== undefined) return JSON.parse(ready) as PostgresServerInfo;
    const failed = readOr(join(stateDir, FAILED_FILE));
    if (failed !== undefined) throw new Error(`the test PostgreSQL server did not start: ${failed}`);
    const supervisorPid = Number(readOr(join(stateDir, SUPERVISOR_PID_FILE))?.trim() ?? "0");
    // Give the supervisor a few seconds to write its PID before treating its absence as a crash.
    if (
      (supervisorPid > 0 && !processAlive(supervisorPid)) ||
      (supervisorPid === 0 && Date.now() - startedAt > 15_000)
    ) {
      const log = readOr(join(stateDir, "supervisor.log")) ?? "";
      throw new Error(`the test PostgreSQL supervisor died before the server was ready:\n${log.trim()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`the test PostgreSQL server was not ready within ${STARTUP_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/**
 * The run's PostgreSQL server, started on first use: connection details plus
 * the name of the migrated template database. Fails with the reason (for
 * example missing server binaries) when it cannot start.
 */
export function sharedPostgresServer(): Promise<PostgresServerInfo> {
  shared ??= (async () => {
    const ownerPid = process.env["NODE_TEST_CONTEXT"] ? process.ppid : process.pid;
    const stateDir = join(tmpdir(), `${STATE_DIR_PREFIX}${ownerPid}`);
    try {
      mkdirSync(stateDir, { mode: 0o755 });
      startSupervisor(stateDir, ownerPid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    return waitForServer(stateDir);
  })();
  return shared;
}
