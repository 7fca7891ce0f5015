/**
 * The host agent's stateful core: one record and one disposable store per capsule, every
 * operation on a capsule serialized. The TTL reaper and pause-all live in auto-pause.ts, the
 * per-capsule state in sandbox-entry.ts.
 */
import { mkdir, rm } from "node:fs/promises";
import { type Logger, PlatformError, silentLogger } from "@wrenn/kit";
import type { EnvdClient } from "../envd-client/envd-client.js";
import { type Clock, systemClock } from "../metrics/clock.js";
import { MetricsCollector } from "../metrics/collector.js";
import type { MetricsStore, TierPoints } from "../metrics/metrics-store.js";
import type { MaterializedTemplate, SandboxExit, TemplateKind } from "../runtime/runtime.js";
import { AutoPauser } from "./auto-pause.js";
import { startCapsule } from "./capsule-start.js";
import { EnvdConnector } from "./envd-connector.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { envdInitBody, guestAddresses, guestSync, notInState, withResumeOverrides } from "./manager-helpers.js";
import { initAfterResume, needsInitAfterResume } from "./resume-init.js";
import { type Entry, type Live, newEntry } from "./sandbox-entry.js";
import type {
  CreateSandboxInput,
  GuestAddress,
  ResumeOverrides,
  SandboxManagerOptions,
  SandboxRecord,
  SnapshotResult,
} from "./sandbox-types.js";
import { StepTimer } from "./step-timer.js";
import { WarmPool, type WarmPoolConfig } from "./warm-pool.js";

/** Creates, pauses, resumes and destroys capsules on this host. */
export class SandboxManager implements AsyncDisposable {
  readonly #o: SandboxManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #mutex = new KeyedMutex();
  readonly #auto: AutoPauser;
  readonly #metrics: MetricsCollector; // samples every running capsule on one timer
  readonly #envd: EnvdConnector;
  #pool: WarmPool | undefined;
  /** Creates in flight (the warm pool's refill waits for none). */
  #creating = 0;
  #disposed = false;

  constructor(options: SandboxManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#auto = new AutoPauser(
      {
        records: () => [...this.#entries.values()].map((e) => e.record),
        pauseIf: (id, still, signal) =>
          this.#op(id, async (e, live) => {
            if (!still(e.record)) return false;
            await this.#freeze(e, live, signal);
            return true;
          }),
      },
      { clock: this.#clock, log: this.#log, reaperIntervalMs: options.reaperIntervalMs ?? 2000 },
    );
    const onError = (sandboxId: string, err: unknown) =>
      this.#log.debug({ sandboxId, err: String(err) }, "usage read failed");
    this.#envd = new EnvdConnector(options.envdClient);
    this.#metrics = new MetricsCollector({ clock: this.#clock, intervalMs: options.sampleIntervalMs ?? 500, onError });
    if (options.warmPool && options.warmPool.size > 0) this.startWarmPool(options.warmPool);
  }

  /**
   * Starts a warm pool (SandboxManagerOptions.warmPool does it at construction): capsules of
   * `config`'s template launched in the background for matching creates to claim.
   * `failed_precondition` when a pool runs already or the manager is shut down.
   */
  startWarmPool(config: WarmPoolConfig): void {
    const why = this.#disposed ? "the manager is shut down" : this.#pool ? "a warm pool runs already" : undefined;
    if (why) throw new PlatformError("failed_precondition", "WARM_POOL_UNAVAILABLE", why);
    this.#pool = new WarmPool(config, {
      network: this.#o.network,
      stateRoot: this.#o.stateRoot,
      log: this.#log,
      busy: () => this.#creating > 0,
    });
    this.#pool.kick();
  }

  /** Stops the warm pool (no refills, ready capsules destroyed, claimed ones stay); later creates launch. */
  async stopWarmPool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.[Symbol.asyncDispose]();
  }

  /** Starts a capsule; on any failure everything acquired so far is released before rejecting. */
  async create(input: CreateSandboxInput, signal?: AbortSignal): Promise<SandboxRecord> {
    const id = input.sandboxId;
    if (this.#disposed) throw new PlatformError("unavailable", "MANAGER_CLOSED", "the sandbox manager is shut down");
    const entry = newEntry(input, this.#o.stateRoot, this.#clock.now());
    if (this.#entries.has(id)) throw new PlatformError("already_exists", "SANDBOX_EXISTS", `sandbox ${id} exists`);
    this.#entries.set(id, entry);
    this.#creating++;
    return this.#mutex.run(id, async () => {
      const { store } = entry;
      const steps = new StepTimer(this.#o.onStep, "create");
      try {
        await steps.time("state dir", () => mkdir(entry.stateDir, { recursive: true, mode: 0o700 }));
        store.defer(() => rm(entry.stateDir, { recursive: true, force: true }));
        const handle = await startCapsule({
          options: this.#o,
          pool: this.#pool,
          entry,
          input,
          steps,
          log: this.#log,
          signal,
        });
        entry.record.envdUrl = handle.envdUrl;
        entry.guest = guestAddresses(handle.envdUrl);
        const envd = this.#envd.client(handle, input.accessToken);
        store.defer(() => envd.close());
        await steps.time("envd /init", () => this.#envd.firstInit(handle, envd, input, this.#clock.now(), signal));
        store.defer(() => this.#metrics.untrack(id));
        const onDestroy = this.#o.onDestroy;
        if (onDestroy) store.defer(() => onDestroy(id));
        entry.live = { handle, envd };
        void handle.exited.then((exit) => this.#lost(entry, exit));
        this.#sample(entry, entry.live);
        entry.record.status = "running";
        entry.record.lastActiveAt = this.#clock.now();
        this.#log.info({ sandboxId: id, templateId: input.templateId }, "sandbox created");
        return { ...entry.record };
      } catch (err) {
        this.#entries.delete(id);
        entry.record.status = "gone";
        await store[Symbol.asyncDispose]().catch((e: unknown) =>
          this.#log.error({ sandboxId: id, err: String(e) }, "cleanup after failed create failed"),
        );
        throw err;
      } finally {
        this.#creating--;
        // The pool refills only between creates (it never waits for one, see warm-pool.ts).
        this.#pool?.kickAfterCreate();
      }
    });
  }

  /** The warm pool now (`ready` count; `settled()` for tests and benchmarks); undefined without one. */
  get warmPool(): Pick<WarmPool, "ready" | "settled"> | undefined {
    return this.#pool;
  }

  /** Freezes a running capsule (see #freeze). */
  async pause(id: string, signal?: AbortSignal): Promise<SandboxRecord> {
    return this.#op(id, async (e, live) => {
      if (e.record.status !== "running") throw notInState(id, "running");
      await this.#freeze(e, live, signal);
      return { ...e.record };
    });
  }

  /**
   * Thaws a paused capsule. `overrides` (ResumeSandbox) replace the TTL, default user, env vars
   * and token from create; unset fields keep their values, env vars are merged over the old
   * ones. envd gets `/init` (fresh clock, the template id from the record) after a restore, and
   * after a pause in place only when the overrides changed what it holds (needsInitAfterResume).
   */
  async resume(id: string, signal?: AbortSignal, overrides: ResumeOverrides = {}): Promise<SandboxRecord> {
    return this.#op(id, async (e, live) => {
      if (e.record.status !== "paused") throw notInState(id, "paused");
      const steps = new StepTimer(this.#o.onStep, "resume");
      await steps.time("thaw", () => live.handle.resume(signal));
      const held = e.input;
      e.input = withResumeOverrides(held, overrides);
      if (overrides.timeoutSec !== undefined) e.record.timeoutSec = overrides.timeoutSec;
      if (needsInitAfterResume(live.handle.pausesInPlace === true, held, e.input)) {
        // The client still presents the token envd holds; the body may replace it.
        await steps.time("envd /init", () =>
          initAfterResume(live.envd, () => envdInitBody(e.input, id, e.record.templateId, this.#clock.now()), {
            healthTimeoutMs: this.#o.healthTimeoutMs ?? 15_000,
            ...(signal ? { signal } : {}),
          }),
        );
      }
      if (e.input.accessToken !== held.accessToken) {
        const next = this.#envd.client(live.handle, e.input.accessToken);
        e.store.defer(() => next.close());
        e.live = { handle: live.handle, envd: next };
        live.envd.close();
      }
      steps.timeSync("sampling restart", () => this.#sample(e, live));
      e.record.status = "running";
      e.record.lastActiveAt = this.#clock.now();
      this.#log.info({ sandboxId: id }, "sandbox resumed");
      return { ...e.record };
    });
  }

  /**
   * Writes a capsule into `dir` (an empty directory) as a template: pauses it first when it
   * runs (a `base` template needs it running: the guest `sync`s its filesystem first), then lets the
   * runtime materialize it. A `snapshot` leaves the capsule paused; a `base` destroys it.
   * `failed_precondition` when the runtime cannot make templates.
   */
  async snapshot(id: string, opts: { dir: string; kind: TemplateKind }, signal?: AbortSignal): Promise<SnapshotResult> {
    let template: MaterializedTemplate | undefined;
    const record = await this.#op(id, async (e, live) => {
      const materialize = live.handle.materialize?.bind(live.handle);
      if (!materialize) {
        throw new PlatformError("failed_precondition", "SNAPSHOT_UNSUPPORTED", "this runtime cannot make templates");
      }
      if (opts.kind === "base" && e.record.status !== "running") {
        // A VM's guest may still hold writes in its page cache: only a running guest can flush them.
        throw new PlatformError(
          "failed_precondition",
          "SANDBOX_NOT_RUNNING",
          "resume the capsule before flattening it",
        );
      }
      if (e.record.status === "running") {
        if (opts.kind === "base") await guestSync(live.envd, signal);
        await this.#freeze(e, live, signal);
      }
      template = await materialize(opts.dir, opts.kind, signal);
      return { ...e.record };
    });
    if (!template) throw new PlatformError("internal", "SNAPSHOT_FAILED", "the runtime wrote no template");
    if (opts.kind === "base") await this.destroy(id);
    return { record, template };
  }

  /**
   * Pauses every running capsule (the control plane is unreachable) and reports each as
   * auto-paused, so the control plane marks them paused, not lost, once it is back (the
   * reference's PauseAll did not: Appendix B.5). Resolves with the ids paused now.
   */
  pauseAll(signal?: AbortSignal): Promise<string[]> {
    return this.#auto.pauseAll(signal);
  }

  /**
   * FlushSandboxMetrics: stops the capsule's sampler (no more points are taken until it is
   * resumed after a pause) and hands back every tier, emptied.
   */
  async flushMetrics(id: string): Promise<TierPoints> {
    const e = this.#entry(id);
    await this.#metrics.untrack(id);
    const all = e.metrics.all();
    e.metrics.clear();
    return all;
  }

  /** Releases everything a capsule holds, in reverse order. Unknown or already destroyed ids are fine. */
  async destroy(id: string): Promise<void> {
    if (!this.#entries.has(id)) return;
    await this.#mutex.run(id, async () => {
      const e = this.#entries.get(id);
      if (!e) return;
      e.record.status = "stopping";
      try {
        await e.store[Symbol.asyncDispose]();
      } finally {
        this.#entries.delete(id);
        e.record.status = "gone";
        e.live = undefined;
        this.#log.info({ sandboxId: id }, "sandbox destroyed");
      }
    });
  }

  /** A snapshot of every capsule's record. */
  list(): SandboxRecord[] {
    return [...this.#entries.values()].map((e) => ({ ...e.record }));
  }

  /** Whether the manager holds a capsule with this id (any status). */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * Where the port proxy forwards a capsule's traffic: its guest address, and whether it is
   * paused; undefined unless it is running or paused. Called for every proxied request, so it
   * is one map lookup that copies nothing (the answers are frozen objects made at create).
   */
  guestAddress(id: string): GuestAddress | undefined {
    const e = this.#entries.get(id);
    if (!e?.guest) return undefined;
    const status = e.record.status;
    return status === "running" ? e.guest.running : status === "paused" ? e.guest.paused : undefined;
  }

  /** The envd access token the capsule's envd holds now (undefined: none). */
  accessToken(id: string): string | undefined {
    return this.#entry(id).input.accessToken;
  }

  /** One capsule's record; `not_found` if unknown. */
  get(id: string): SandboxRecord {
    return { ...this.#entry(id).record };
  }

  /** The capsule's envd client (for RPCs and the proxy); `failed_precondition` until created. */
  envd(id: string): EnvdClient {
    const live = this.#entry(id).live;
    if (!live) throw notInState(id, "running");
    return live.envd;
  }

  /** The capsule's metrics history. */
  metrics(id: string): MetricsStore {
    return this.#entry(id).metrics;
  }

  /** Marks activity: the TTL clock restarts now. */
  ping(id: string): void {
    this.#entry(id).record.lastActiveAt = this.#clock.now();
  }

  /** Ids the TTL reaper paused since the last call (the list is emptied by this read). */
  drainAutoPaused(): string[] {
    return this.#auto.drain();
  }

  /** Stops the reaper, destroys every capsule and the warm pool's, and stops metrics sampling. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#auto[Symbol.asyncDispose]();
    const results = await Promise.allSettled([
      ...[...this.#entries.keys()].map((id) => this.destroy(id)),
      ...(this.#pool ? [this.#pool[Symbol.asyncDispose]()] : []),
    ]);
    await this.#metrics[Symbol.asyncDispose]();
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (errors.length > 0) throw new AggregateError(errors, "destroying sandboxes failed");
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new PlatformError("not_found", "SANDBOX_NOT_FOUND", `sandbox ${id} not found`);
    return e;
  }

  /** Runs `fn` under the capsule's lock, checking it still exists and is set up once the lock is held. */
  async #op<T>(id: string, fn: (e: Entry, live: Live) => Promise<T>): Promise<T> {
    this.#entry(id);
    return this.#mutex.run(id, async () => {
      const e = this.#entry(id);
      if (!e.live) throw notInState(id, "running");
      return fn(e, e.live);
    });
  }

  /**
   * A capsule whose init ended on its own (envd crashed, the VM died): release what it held
   * and forget it, so RPCs answer `not_found` and the control plane's reconcile marks it
   * stopped, instead of a dead capsule listed as running forever.
   */
  async #lost(entry: Entry, exit: SandboxExit): Promise<void> {
    const id = entry.record.id;
    if (this.#entries.get(id) !== entry || entry.record.status === "stopping" || entry.record.status === "gone") return;
    this.#log.warn(
      { sandboxId: id, code: exit.code, signal: exit.signal, reason: exit.reason },
      "capsule exited on its own; releasing it",
    );
    await this.destroy(id).catch((err: unknown) =>
      this.#log.error({ sandboxId: id, err: String(err) }, "releasing an exited capsule failed"),
    );
  }

  /** Starts sampling a capsule's usage (create and resume). */
  #sample(e: Entry, live: Live): void {
    this.#metrics.track(e.record.id, { read: () => live.handle.usage(), store: e.metrics, vcpus: e.record.vcpus });
  }

  /**
   * The pause steps, lock held: sampler first (the reference leaked one timer per pause), then
   * envd's snapshot preparation — only when the runtime saves a snapshot to restore (a pause in
   * place keeps every connection working across the freeze) — then the runtime. The template
   * id needs no write here: it was persisted at create.
   */
  async #freeze(e: Entry, live: Live, signal?: AbortSignal): Promise<void> {
    const steps = new StepTimer(this.#o.onStep, "pause");
    // Not awaited: untrack stops the capsule's sampling at once (a read in flight stores
    // nothing), and waiting for the whole tick in flight (every capsule's reads, disk walks
    // included) would only delay the freeze; reading a frozen capsule's usage is harmless.
    steps.timeSync("metrics untrack", () => void this.#metrics.untrack(e.record.id));
    try {
      if (live.handle.pausesInPlace !== true) {
        await steps.time("envd /snapshot/prepare", () => live.envd.prepareSnapshot(signal));
      }
      e.record.pauseMode = await steps.time("freezer", () => live.handle.pause(signal));
    } catch (err) {
      this.#sample(e, live);
      throw err;
    }
    e.record.status = "paused";
    this.#o.onPause?.(e.record.id);
    this.#log.info({ sandboxId: e.record.id, mode: e.record.pauseMode }, "sandbox paused");
  }
}
