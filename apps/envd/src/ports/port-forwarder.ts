import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import type { Logger } from "@wrenn/kit";
import { findExecutable } from "./find-executable.js";
import { type ForwardTarget, isForwardableLoopback, planForwards, portsListeningOn } from "./forward-plan.js";
import { ownSocketInodes } from "./own-socket-inodes.js";
import { parseProcNetTcp, type TcpSocketEntry, TcpState } from "./proc-net-tcp.js";
import { type SocatExit, SocatProcess, socatArgv } from "./socat-process.js";

/** Options of `PortForwarder`. */
export interface PortForwarderOptions {
  /**
   * Specific address (not a wildcard) socat listens on, normally the capsule's
   * external address; undefined turns the forwarder into a no-op.
   */
  readonly bindAddress: string | undefined;
  readonly log: Logger;
  /** Time between two scans of /proc/net/tcp{,6}. @default 1000 */
  readonly scanIntervalMs?: number;
  /** socat program, looked up in PATH unless it contains "/". @default "socat" */
  readonly socatCommand?: string;
  /** Delay between SIGTERM and SIGKILL when a socat is stopped. @default 2000 */
  readonly killGraceMs?: number;
  /**
   * Extra filter on eligible ports (false = never forward). Tests use it to
   * ignore listeners of other programs sharing the machine. @default every port
   */
  readonly includePort?: (port: number) => boolean;
}

/** A forward as seen from outside; `pid` is also the socat process-group id. */
export interface ForwardInfo {
  readonly port: number;
  /** Loopback family of the service: 4 → 127.0.0.1, 6 → ::1. */
  readonly family: 4 | 6;
  readonly pid: number | undefined;
  /** starting: spawned, not yet seen listening; listening: confirmed by a scan; stopping: killed, not yet exited. */
  readonly state: "starting" | "listening" | "stopping";
}

/** Events of `PortForwarder` (mostly for tests and diagnostics). */
export interface PortForwarderEvents {
  /** A scan saw socat listening on the bind address for this port. */
  forwarded: [info: ForwardInfo];
  /** A socat exited; `expected` is false when it died without being stopped. */
  released: [info: ForwardInfo & { readonly exit: SocatExit; readonly expected: boolean }];
  /** A scan finished and its result was applied. */
  scanned: [];
  /** socat was not found; the forwarder does nothing from now on. */
  unavailable: [command: string];
}

interface Forward extends ForwardTarget {
  readonly socat: SocatProcess;
  state: ForwardInfo["state"];
}

/**
 * Makes services that listen only on 127.0.0.1 / ::1 inside the capsule
 * reachable on its external address: scans /proc/net/tcp{,6} while started
 * and keeps one `socat` per such port (see `planForwards` for what is
 * skipped). A socat is killed when its listener disappears, on `stop()`, and
 * synchronously if envd exits without stopping.
 *
 * `start()` and `stop()` are synchronous and idempotent so envd can call
 * them around snapshots; `stopped()` awaits the exit of every socat. A socat
 * that dies by itself (say the port is taken on the bind address) is not
 * restarted until that port's listener changes, to avoid a respawn loop.
 */
export class PortForwarder extends EventEmitter<PortForwarderEvents> implements AsyncDisposable {
  readonly #bindAddress: string | undefined;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #socatCommand: string;
  readonly #killGraceMs: number;
  readonly #includePort: ((port: number) => boolean) | undefined;
  readonly #forwards = new Map<number, Forward>();
  /** port → inode of the listener whose socat died by itself. */
  readonly #failed = new Map<number, number>();
  #ownInodes = new Set<number>();
  #checkedInodes = new Set<number>();
  #socatPath: Promise<string | undefined> | undefined;
  #started = false;
  /** Bumped by start and stop so a scan that straddles them drops its result. */
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #scanErrorLogged = false;

  constructor(options: PortForwarderOptions) {
    super();
    this.#bindAddress = options.bindAddress;
    this.#log = options.log;
    this.#intervalMs = options.scanIntervalMs ?? 1000;
    this.#socatCommand = options.socatCommand ?? "socat";
    this.#killGraceMs = options.killGraceMs ?? 2000;
    this.#includePort = options.includePort;
  }

  /** True between start() and stop() (never when there is no bind address). */
  get started(): boolean {
    return this.#started;
  }

  /** Current forwards, including ones still shutting down. */
  get forwards(): ForwardInfo[] {
    return [...this.#forwards.values()].map(infoOf);
  }

  /** Starts scanning (first scan at once). No-op when started or without a bind address. */
  start(): void {
    if (this.#started || this.#bindAddress === undefined) return;
    this.#started = true;
    // After a snapshot restore the conflict that made a socat die may be gone.
    this.#failed.clear();
    const generation = ++this.#generation;
    this.#schedule(generation, 0);
  }

  /** Stops scanning and signals every socat; returns at once (see `stopped()`). */
  stop(): void {
    this.#started = false;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const fwd of this.#forwards.values()) this.#release(fwd);
  }

  /** Resolves when every socat started so far has exited. */
  async stopped(): Promise<void> {
    await Promise.all([...this.#forwards.values()].map((f) => f.socat.exited));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
    await this.stopped();
  }

  #schedule(generation: number, delayMs: number): void {
    this.#timer = setTimeout(() => void this.#tick(generation), delayMs);
    // Scanning alone must never keep envd (or a test) alive.
    this.#timer.unref();
  }

  async #tick(generation: number): Promise<void> {
    const current = () => generation === this.#generation;
    try {
      const socat = await this.#resolveSocat();
      if (socat === undefined) return; // Warned once; forwarding stays off.
      if (!current()) return;
      const sockets = await readSocketTables();
      if (!current()) return;
      await this.#refreshOwnInodes(sockets);
      if (!current()) return;
      this.#apply(sockets, socat);
      this.#scanErrorLogged = false;
      this.emit("scanned");
    } catch (err) {
      if (!this.#scanErrorLogged) this.#log.warn({ err }, "port scan failed; will retry");
      this.#scanErrorLogged = true;
    }
    if (current()) this.#schedule(generation, this.#intervalMs);
  }

  #resolveSocat(): Promise<string | undefined> {
    this.#socatPath ??= findExecutable(this.#socatCommand).then((path) => {
      if (path === undefined) {
        this.#log.warn(
          { command: this.#socatCommand },
          "socat not found in PATH: localhost-only ports will not be forwarded (install socat to enable)",
        );
        this.emit("unavailable", this.#socatCommand);
      }
      return path;
    });
    return this.#socatPath;
  }

  /** Reads /proc/self/fd only when a loopback listener appears that was not checked before. */
  async #refreshOwnInodes(sockets: readonly TcpSocketEntry[]): Promise<void> {
    const candidates = sockets.filter((s) => s.state === TcpState.Listen && isForwardableLoopback(s.localAddress));
    if (candidates.every((s) => this.#checkedInodes.has(s.inode))) return;
    this.#ownInodes = await ownSocketInodes();
    this.#checkedInodes = new Set(candidates.map((s) => s.inode));
  }

  #apply(sockets: readonly TcpSocketEntry[], socat: string): void {
    const bindAddress = this.#bindAddress;
    if (bindAddress === undefined) return;
    const plan = planForwards({
      sockets,
      bindAddress,
      ownInodes: this.#ownInodes,
      ourPorts: new Set(this.#forwards.keys()),
      include: this.#includePort,
    });
    for (const [port, inode] of this.#failed) if (plan.get(port)?.inode !== inode) this.#failed.delete(port);
    for (const fwd of this.#forwards.values()) {
      const want = plan.get(fwd.port);
      if (fwd.state !== "stopping" && (!want || want.family !== fwd.family)) this.#release(fwd);
    }
    for (const want of plan.values()) {
      // A port whose old socat is still exiting is picked up by a later scan.
      if (!this.#forwards.has(want.port) && !this.#failed.has(want.port)) this.#spawn(want, socat, bindAddress);
    }
    const bound = portsListeningOn(sockets, bindAddress);
    for (const fwd of this.#forwards.values()) {
      if (fwd.state === "starting" && bound.has(fwd.port)) {
        fwd.state = "listening";
        this.#log.info({ port: fwd.port, pid: fwd.socat.pid, bindAddress }, "forwarding localhost port");
        this.emit("forwarded", infoOf(fwd));
      }
    }
  }

  #spawn(target: ForwardTarget, socat: string, bindAddress: string): void {
    const fwd: Forward = {
      ...target,
      socat: new SocatProcess(socat, socatArgv(target.port, bindAddress, target.family)),
      state: "starting",
    };
    this.#forwards.set(fwd.port, fwd);
    this.#log.debug({ port: fwd.port, pid: fwd.socat.pid, family: fwd.family }, "starting socat");
    void fwd.socat.exited.then((exit) => this.#onExit(fwd, exit));
  }

  #release(fwd: Forward): void {
    if (fwd.state === "stopping") return;
    fwd.state = "stopping";
    fwd.socat.stop(this.#killGraceMs);
  }

  #onExit(fwd: Forward, exit: SocatExit): void {
    if (this.#forwards.get(fwd.port) === fwd) this.#forwards.delete(fwd.port);
    const expected = fwd.state === "stopping";
    const fields = { port: fwd.port, pid: fwd.socat.pid, code: exit.code, signal: exit.signal, err: exit.error };
    if (expected) {
      this.#log.info(fields, "stopped forwarding port");
    } else {
      this.#failed.set(fwd.port, fwd.inode);
      this.#log.warn(fields, "socat exited by itself; port not forwarded until its listener changes");
    }
    this.emit("released", { ...infoOf(fwd), exit, expected });
  }
}

function infoOf(fwd: Forward): ForwardInfo {
  return { port: fwd.port, family: fwd.family, pid: fwd.socat.pid, state: fwd.state };
}

/** Both tables; a kernel without IPv6 has no tcp6 file. */
async function readSocketTables(): Promise<TcpSocketEntry[]> {
  const read = (name: string) =>
    readFile(`/proc/net/${name}`, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "";
      throw err;
    });
  const [v4, v6] = await Promise.all([read("tcp"), read("tcp6")]);
  return [...parseProcNetTcp(v4), ...parseProcNetTcp(v6)];
}
