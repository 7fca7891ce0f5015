import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { parseProcNetTcp, TcpState } from "../../apps/envd/src/ports/proc-net-tcp.js";

/**
 * The capsule's external address inside every benchmark network namespace.
 * Each namespace is fresh and private (created here with `unshare --net`), so
 * the same address in all of them reaches nothing outside.
 */
export const CAPSULE_ADDRESS = "10.255.77.2";

/** envd's port inside the namespace, as in a capsule. */
export const ENVD_PORT = 49983;

/** A process alone in a fresh network namespace (loopback up, CAPSULE_ADDRESS on lo). */
export interface NetnsProcess extends AsyncDisposable {
  readonly pid: number;
  /** `nsenter` arguments that run a command in this process's network namespace. */
  readonly nsenter: readonly string[];
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat on every Linux build Node runs on. */
const USER_HZ = 100;

/** CPU time of a process (its threads included, exited children not), split, in ms. */
export interface CpuTimes {
  readonly userMs: number;
  readonly sysMs: number;
}

/** utime and stime of `pid` from /proc/<pid>/stat (10 ms resolution). */
export async function cpuTimes(pid: number): Promise<CpuTimes> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces: count from its closing ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const sys = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(sys)) throw new Error(`cannot read the CPU time of pid ${pid}`);
  return { userMs: (user * 1000) / USER_HZ, sysMs: (sys * 1000) / USER_HZ };
}

/**
 * Runs `argv` (program first) as the only process of a fresh network
 * namespace, like envd in a namespace capsule: `unshare --net` execs a shell
 * that brings up loopback, adds CAPSULE_ADDRESS to it and execs `argv`, so
 * the returned pid is the program's own. Resolves once something in the
 * namespace listens on `readyPort` (read from /proc/<pid>/net/tcp, so the
 * benchmark needs no route into the namespace). Requires root.
 */
export async function startInNetns(argv: readonly string[], readyPort: number): Promise<NetnsProcess> {
  const setup = `ip link set lo up && ip addr add ${CAPSULE_ADDRESS}/32 dev lo && exec "$@"`;
  const child = spawn("unshare", ["--net", "--", "sh", "-c", setup, "sh", ...argv], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("unshare did not start (is util-linux installed?)");
  const deadline = Date.now() + 15_000;
  while (!(await listensOn(pid, readyPort))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${argv.join(" ")} exited before listening (root is required):\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`${argv.join(" ")} did not listen on ${readyPort} within 15 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pid,
    nsenter: [`--net=/proc/${pid}/ns/net`, "--"],
    [Symbol.asyncDispose]: () => stop(child),
  };
}

/** True when the namespace of `pid` has a TCP listener on `port` (any address). */
async function listensOn(pid: number, port: number): Promise<boolean> {
  let text: string;
  try {
    text = (await readFile(`/proc/${pid}/net/tcp`, "utf8")) + (await readFile(`/proc/${pid}/net/tcp6`, "utf8"));
  } catch {
    return false; // Not yet (or no longer) there.
  }
  return parseProcNetTcp(text).some((s) => s.state === TcpState.Listen && s.localPort === port);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
