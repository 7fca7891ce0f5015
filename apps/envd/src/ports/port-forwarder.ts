import { EventEmitter } from "node:events";
import type { Logger } from "@wrenn/kit";
import { findExecutable } from "./find-executable.js";
import { type ForwardTarget, isForwardableLoopback, planForwards, portsListeningOn } from "./forward-plan.js";
import { ownSocketInodes } from "./own-socket-inodes.js";
import { type TcpSocketEntry, TcpState } from "./proc-net-tcp.js";
import { type PacerState, ScanPacer, type ScanPacing } from "./scan-pacer.js";
import { type SocatExit, SocatProcess, socatArgv } from "./socat-process.js";
import { SOCKSTAT_FILES, SocketCountProbe } from "./socket-count-probe.js";
import { SocketTables, TCP_TABLE_FILES } from "./socket-tables.js";

/** Options of `PortForwarder`. */
export interface PortForwarderOptions {
  /**
   * Specific address (not a wildcard) socat listens on, normally the capsule's
   * external address; undefined turns the forwarder into a no-op.
   */
  readonly bindAddress: string | undefined;
  readonly log: Logger;
  /** When to probe and scan (see ScanPacing). @default DEFAULT_SCAN_PACING */
  readonly pacing?: Partial<ScanPacing>;
  /**
   * Replacement paths of the /proc files read (tests: a missing sockstat
   * turns the probe off). @default /proc/net/{sockstat,sockstat6,tcp,tcp6}
   */
  readonly procFiles?: {
    readonly sockstat: { readonly v4: string; readonly v6: string };
    readonly tcp: { readonly v4: string; readonly v6: string };
  };
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

/**
 * Why a tick read the socket tables: `start` (first tick), `probe` (the
 * socket counts changed), `confirm` (a socat is not yet seen listening),
 * `periodic` (the scan gap passed with no change seen).
 */
export type ScanReason = "start" | "probe" | "confirm" | "periodic";

/** Events of `PortForwarder` (mostly for tests and diagnostics). */
export interface PortForwarderEvents {
  /** A scan saw socat listening on the bind address for this port. */
  forwarded: [info: ForwardInfo];
  /** A socat exited; `expected` is false when it died without being stopped. */
  released: [info: ForwardInfo & { readonly exit: SocatExit; readonly expected: boolean }];
  /** A scan finished and its result was applied. */
  scanned: [reason: ScanReason];
  /** A tick ended (with or without a scan); the next one is `delayMs` away. */
  ticked: [delayMs: number];
  /** kick() switched to fast ticks (only while started). */
  kicked: [];
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
 * Idle cost: each tick only probes the socket counts (SocketCountProbe); the
 * tables are read when the counts change, while a socat awaits confirmation,
 * or after a scan gap that backs off to `maxScanGapMs` (ScanPacer). Ticks are
 * fast for a while after `kick()` (envd calls it when it starts a process)
 * and after the listeners change, then slow down to `probeMs`.
 *
 * `start()` and `stop()` are synchronous and idempotent so envd can call
 * them around snapshots; `stopped()` awaits the exit of every socat. A socat
 * that dies by itself (say the port is taken on the bind address) is not
 * restarted until that port's listener changes, to avoid a respawn loop.
 */
export class PortForwarder extends EventEmitter<PortForwarderEvents> implements AsyncDisposable {
  readonly #bindAddress: string | undefined;
  readonly #log: Logger;
  readonly #pacer: ScanPacer;
  readonly #probe: SocketCountProbe;
  readonly #tables: SocketTables;
  /** Socket counts the probe read before the last scan; undefined when unreadable. */
  #scannedCounts: number | undefined;
  /** False until the first scan after start() (which always reads the tables). */
  #scannedOnce = false;
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
  /** performance.now() at which #timer fires. */
  #timerDueAt = 0;
  /** The tick started last (it never rejects); dispose waits for it. */
  #lastTick: Promise<void> = Promise.resolve();
  /** True while a tick runs (between its timer firing and the next schedule). */
  #ticking = false;
  #scanErrorLogged = false;

  constructor(options: PortForwarderOptions) {
    super();
    this.#bindAddress = options.bindAddress;
    this.#log = options.log;
    this.#pacer = new ScanPacer(options.pacing);
    this.#probe = new SocketCountProbe(options.procFiles?.sockstat ?? SOCKSTAT_FILES);
    this.#tables = new SocketTables(options.procFiles?.tcp ?? TCP_TABLE_FILES);
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

  /** Timing state now (diagnostics and tests). */
  get pacing(): PacerState {
    return this.#pacer.state(performance.now());
  }

  /** Starts scanning (first scan at once). No-op when started or without a bind address. */
  start(): void {
    if (this.#started || this.#bindAddress === undefined) return;
    this.#started = true;
    // After a snapshot restore the conflict that made a socat die may be gone.
    this.#failed.clear();
    this.#scannedOnce = false;
    this.#ticking = false;
    this.#pacer.activity(performance.now());
    const generation = ++this.#generation;
    this.#schedule(generation, 0);
  }

  /**
   * Something may listen soon (envd started a process or a PTY): tick fast
   * for the fast window, so its server is forwarded within ~fastMs of its
   * listen(). Cheap; a no-op while stopped.
   */
  kick(): void {
    if (!this.#started) return;
    const now = performance.now();
    this.#pacer.activity(now);
    this.emit("kicked");
    // A running tick schedules the next one with the fast delay when it ends;
    // a pending one that is due sooner stays.
    const delay = this.#pacer.nextTickDelay(now);
    if (this.#ticking || this.#timerDueAt <= now + delay) return;
    clearTimeout(this.#timer);
    this.#schedule(this.#generation, delay);
  }

  /** Stops scanning and signals every socat; returns at once (see `stopped()`). */
  stop(): void {
    this.#started = false;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The /proc descriptors stay open (a tick may still be reading them; a
    // snapshot restore brings the same namespace back): dispose closes them.
    for (const fwd of this.#forwards.values()) this.#release(fwd);
  }

  /** Resolves when every socat started so far has exited. */
  async stopped(): Promise<void> {
    await Promise.all([...this.#forwards.values()].map((f) => f.socat.exited));
  }

  /** stop(), then waits for the socats and a tick still running, and closes the /proc descriptors. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
    await Promise.all([this.stopped(), this.#lastTick]);
    this.#probe.close();
    this.#tables.close();
  }

  #schedule(generation: number, delayMs: number): void {
    this.#timerDueAt = performance.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#lastTick = this.#tick(generation);
    }, delayMs);
    // Scanning alone must never keep envd (or a test) alive.
    this.#timer.unref();
  }

  async #tick(generation: number): Promise<void> {
    const current = () => generation === this.#generation;
    this.#ticking = true;
    try {
      const socat = await this.#resolveSocat();
      if (socat === undefined) return; // Warned once; forwarding stays off.
      if (!current()) return;
      // Read before the scan: a socket opened during the scan changes the counts again.
      const counts = this.#probe.read();
      const reason = this.#scanReason(counts);
      if (reason !== undefined) {
        const { sockets, listenersChanged } = await this.#tables.read();
        if (!current()) return;
        await this.#refreshOwnInodes(sockets);
        if (!current()) return;
        this.#apply(sockets, socat);
        this.#scannedCounts = counts;
        this.#scannedOnce = true;
        this.#pacer.scanned(performance.now(), listenersChanged);
        this.#scanErrorLogged = false;
        this.emit("scanned", reason);
      }
    } catch (err) {
      if (!this.#scanErrorLogged) this.#log.warn({ err }, "port scan failed; will retry");
      this.#scanErrorLogged = true;
    } finally {
      if (current()) this.#ticking = false;
    }
    if (current()) {
      const delay = this.#pacer.nextTickDelay(performance.now());
      this.#schedule(generation, delay);
      this.emit("ticked", delay);
    }
  }

  /**
   * Whether this tick must read the tables, and why; undefined to skip.
   * Unreadable counts (undefined) never differ from each other, so without a
   * probe only confirmations and the backed-off periodic scan remain.
   */
  #scanReason(counts: number | undefined): ScanReason | undefined {
    if (!this.#scannedOnce) return "start";
    if (counts !== this.#scannedCounts) return "probe";
    for (const fwd of this.#forwards.values()) if (fwd.state === "starting") return "confirm";
    return this.#pacer.scanDue(performance.now()) ? "periodic" : undefined;
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
