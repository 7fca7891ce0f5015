/**
 * Floors measured in the same run: what the mechanisms under a capsule cost on their own.
 * Namespace: an overlay mount plus `unshare` into fresh namespaces in a pooled network slot,
 * starting a bare Node HTTP server until it answers from the host. Traffic stays inside the
 * slot's /30 (host ↔ its namespace). RPC path: a bare HTTP/1.1 echo on loopback.
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createServer, type Agent as HttpAgent, request } from "node:http";
import { join } from "node:path";
import { listenOnLoopback } from "@wrenn/kit";
import { ExecFileRunner, runChecked } from "../../apps/host-agent/src/exec/command-runner.js";
import type { BenchAgent } from "./agent.js";
import { BENCH_PROCESS_MARKER } from "./environment.js";

const FLOOR_PORT = 8000;
/** argv[1] = address, argv[2] = port (`node -e script addr port`). */
const FLOOR_SERVER = `/* ${BENCH_PROCESS_MARKER} floor */ require("node:http").createServer((q,s)=>s.end("ok")).listen(+process.argv[2],process.argv[1])`;

/** One GET on a fresh socket; the status, or undefined when nothing answered. */
export function probe(url: string, timeoutMs = 250): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** A bare namespace server started by {@link startBareNamespace}; dispose stops it and unmounts. */
export interface BareNamespace extends AsyncDisposable {
  /** Overlay mount → first HTTP 200 from the host, in ms. */
  readonly ms: number;
  /** `unshare` (the parent) and the server (PID 1 inside), for memory readings. */
  readonly pids: readonly number[];
}

/**
 * Overlay mount → `unshare` (pid, mount, uts, ipc; root = the overlay; /proc mounted) in a
 * pooled slot's netns → a Node HTTP server answering on the slot's guest address. The slot
 * is taken before the clock starts (pooled, as a capsule's is).
 */
export async function startBareNamespace(agent: BenchAgent, run: number, signal: AbortSignal): Promise<BareNamespace> {
  const runner = new ExecFileRunner();
  const id = `floor-${run}`;
  const dir = join(agent.stateRoot, id);
  const slot = await agent.network.acquire(id, { allowEgress: false }, signal);
  let mounted = false;
  let child: ReturnType<typeof spawn> | undefined;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child?.once("exit", r));
      // unshare --kill-child takes its child (the server, PID 1 there) with it.
      child.kill("SIGKILL");
      await gone;
    }
    if (mounted) await runChecked(runner, ["umount", join(dir, "root")]);
    await rm(dir, { recursive: true, force: true });
    await slot[Symbol.asyncDispose]();
  };
  try {
    const t0 = performance.now();
    const [upper, work, root] = ["upper", "work", "root"].map((d) => join(dir, d)) as [string, string, string];
    for (const d of [upper, work, root]) await mkdir(d, { recursive: true });
    await runChecked(runner, [
      "mount",
      "-t",
      "overlay",
      `wbench-${id}`,
      "-o",
      `lowerdir=${agent.image.rootfs},upperdir=${upper},workdir=${work}`,
      root,
    ]);
    mounted = true;
    const argv = [
      `--net=${slot.netnsPath}`,
      "--",
      "unshare",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount",
      "--uts",
      "--ipc",
      `--root=${root}`,
      "--mount-proc",
      "/usr/local/bin/node",
      "-e",
      FLOOR_SERVER,
      slot.guestIp,
      String(FLOOR_PORT),
    ];
    const c = spawn("nsenter", argv, { stdio: "ignore", env: { PATH: "/usr/local/bin:/usr/bin:/bin" } });
    child = c;
    let exited = false;
    c.once("exit", () => {
      exited = true;
    });
    const url = `http://${slot.guestIp}:${FLOOR_PORT}/`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      signal.throwIfAborted();
      if (exited) throw new Error("the floor server exited before answering");
      if ((await probe(url)) === 200) break;
      if (Date.now() > deadline) throw new Error(`the floor server did not answer ${url}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const ms = performance.now() - t0;
    const pid = c.pid ?? 0;
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
    const pids = [
      pid,
      ...children
        .split(" ")
        .filter((s) => s.trim() !== "")
        .map(Number),
    ];
    return { ms, pids, [Symbol.asyncDispose]: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** {@link startBareNamespace} timed and stopped at once; resolves with its ms. */
export async function bareNamespaceStart(agent: BenchAgent, run: number, signal: AbortSignal): Promise<number> {
  await using bare = await startBareNamespace(agent, run, signal);
  return bare.ms;
}

/** A loopback HTTP/1.1 server answering every request with an empty 200 once its body is read. */
export interface BareEcho extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * The floor of one small request and answer on a kept-alive loopback connection: a bare Node
 * HTTP/1.1 server (no framework, no routing), for the RPC path's rows.
 */
export async function startBareEcho(): Promise<BareEcho> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end());
  });
  return listenOnLoopback(server);
}

/** One POST through `agent` (kept-alive sockets); resolves with the status once the answer's body ended. */
export function postOnce(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  agent: HttpAgent,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
