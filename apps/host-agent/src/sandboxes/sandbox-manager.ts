/**
 * The host agent's stateful core: one record and one disposable store per capsule, every
 * operation on a capsule serialized, and a TTL reaper that auto-pauses idle capsules.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AsyncDisposableStore, type Logger, PlatformError, silentLogger } from "@wrenn/kit";
import type { EnvdClient } from "../envd-client/envd-client.js";
import { type Clock, systemClock } from "../metrics/clock.js";
import { MetricsCollector } from "../metrics/collector.js";
import { MetricsStore, type TierPoints } from "../metrics/metrics-store.js";
import type { MaterializedTemplate, SandboxExit, SandboxHandle, TemplateKind } from "../runtime/runtime.js";
import { EnvdConnector } from "./envd-connector.js";
import { KeyedMutex } from "./keyed-mutex.js";
import {
  envdInitBody,
  guestAddresses,
  guestSync,
  notInState,
  runtimeSpec,
  withResumeOverrides,
} from "./manager-helpers.js";
import { writePauseMetadata } from "./pause-metadata.js";
import { PeriodicTask } from "./periodic-task.js";
import { initAfterResume } from "./resume-init.js";
import type {
  CreateSandboxInput,
  GuestAddress,
  ResumeOverrides,
  SandboxManagerOptions,
  SandboxRecord,
  SnapshotResult,
} from "./sandbox-types.js";
import { StepTimer } from "./step-timer.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Live {
  readonly handle: SandboxHandle;
  readonly envd: EnvdClient;
}

interface Entry {
  readonly record: Mutable<SandboxRecord>;
  /** Owns, in order: state dir, network slot, runtime handle, envd client, metrics sampling, proxy eviction. */
  readonly store: AsyncDisposableStore;
  /** Create settings; resume may replace the default user, env and token (ResumeSandbox). */
  input: CreateSandboxInput;
  readonly stateDir: string;
  readonly metrics: MetricsStore;
  live?: Live;
  /** The guest's address as the port proxy wants it, built once at create (see guestAddress). */
  guest?: { readonly running: GuestAddress; readonly paused: GuestAddress };
}

// Ids become directory names and log fields: keep them boring.
const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Creates, pauses, resumes and destroys capsules on this host. */
export class SandboxManager implements AsyncDisposable {
  readonly #o: SandboxManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #mutex = new KeyedMutex();
  #autoPaused: string[] = [];
  readonly #reaper: PeriodicTask;
  readonly #metrics: MetricsCollector; // samples every running capsule on one timer
  readonly #envd: EnvdConnector;
  #disposed = false;

  constructor(options: SandboxManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#reaper = new PeriodicTask(this.#clock, options.reaperIntervalMs ?? 2000, () => this.#reap());
    const onError = (sandboxId: string, err: unknown) =>
      this.#log.debug({ sandboxId, err: String(err) }, "usage read failed");
    this.#envd = new EnvdConnector(options.envdClient);
    this.#metrics = new MetricsCollector({ clock: this.#clock, intervalMs: options.sampleIntervalMs ?? 500, onError });
  }

  /** Starts a capsule; on any failure everything acquired so far is released before rejecting. */
  async create(input: CreateSandboxInput, signal?: AbortSignal): Promise<SandboxRecord> {
    const id = input.sandboxId;
    if (this.#disposed) throw new PlatformError("unavailable", "MANAGER_CLOSED", "the sandbox manager is shut down");
    if (!SANDBOX_ID.test(id)) throw new PlatformError("invalid_argument", "INVALID_SANDBOX_ID", `bad sandbox id`);
    if (this.#entries.has(id)) throw new PlatformError("already_exists", "SANDBOX_EXISTS", `sandbox ${id} exists`);
    const now = this.#clock.now();
    const entry: Entry = {
      record: {
        id,
        status: "creating",
        templateId: input.templateId,
        teamId: input.teamId,
        vcpus: input.vcpus,
        memoryMb: input.memoryMb,
        timeoutSec: input.timeoutSec,
        createdAt: now,
        lastActiveAt: now,
        metadata: { ...(input.metadata ?? {}) },
      },
      store: new AsyncDisposableStore(),
      input,
      stateDir: join(this.#o.stateRoot, id),
      metrics: new MetricsStore(),
    };
    this.#entries.set(id, entry);
    return this.#mutex.run(id, async () => {
      const { store } = entry;
      const steps = new StepTimer(this.#o.onStep, "create");
      try {
        await steps.time("state dir", () => mkdir(entry.stateDir, { recursive: true, mode: 0o700 }));
        store.defer(() => rm(entry.stateDir, { recursive: true, force: true }));
        const slot = await store.add(
          await steps.time("network slot", () =>
            this.#o.network.acquire(id, { allowEgress: input.allowEgress ?? false }, signal),
          ),
        );
        // The metadata does not change while the capsule lives: written once, while the
        // runtime starts the capsule (both settle before anything is released on failure).
        const [meta, created] = await Promise.allSettled([
          steps.time("pause metadata", () =>
            writePauseMetadata(entry.stateDir, { sandboxId: id, templateId: input.templateId }),
          ),
          steps.time("runtime create", () => this.#o.runtime.create(runtimeSpec(input, slot, entry.stateDir), signal)),
        ]);
        if (created.status === "rejected") throw created.reason;
        const handle = await store.add(created.value);
        if (meta.status === "rejected") throw meta.reason;
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
      }
    });
  }

  /** Freezes a running capsule (see #freeze). */
  async pause(id: string, signal?: AbortSignal): Promise<SandboxRecord> {
    return this.#op(id, async (e, live) => {
      if (e.record.status !== "running") throw notInState(id, "running");
      await this.#freeze(e, live, signal);
    });
  }

  /**
   * Thaws a paused capsule and hands envd its settings (persisted template id, fresh clock)
   * again. `overrides` (ResumeSandbox) replace the TTL, default user, env vars and token from
   * create; unset fields keep their values, env vars are merged over the old ones.
   */
  async resume(id: string, signal?: AbortSignal, overrides: ResumeOverrides = {}): Promise<SandboxRecord> {
    return this.#op(id, async (e, live) => {
      if (e.record.status !== "paused") throw notInState(id, "paused");
      const steps = new StepTimer(this.#o.onStep, "resume");
      await steps.time("thaw", () => live.handle.resume(signal));
      const heldToken = e.input.accessToken;
      e.input = withResumeOverrides(e.input, overrides);
      if (overrides.timeoutSec !== undefined) e.record.timeoutSec = overrides.timeoutSec;
      // The client still presents the token envd holds; the body may replace it. The template
      // id is the one persisted at create (it never changes while the capsule lives).
      await steps.time("envd /init", () =>
        initAfterResume(live.envd, () => envdInitBody(e.input, id, e.record.templateId, this.#clock.now()), {
          healthTimeoutMs: this.#o.healthTimeoutMs ?? 15_000,
          ...(signal ? { signal } : {}),
        }),
      );
      if (e.input.accessToken !== heldToken) {
        const next = this.#envd.client(live.handle, e.input.accessToken);
        e.store.defer(() => next.close());
        e.live = { handle: live.handle, envd: next };
        live.envd.close();
      }
      steps.timeSync("sampling restart", () => this.#sample(e, live));
      e.record.status = "running";
      e.record.lastActiveAt = this.#clock.now();
      this.#log.info({ sandboxId: id }, "sandbox resumed");
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
  async pauseAll(signal?: AbortSignal): Promise<string[]> {
    const paused: string[] = [];
    for (const e of [...this.#entries.values()]) {
      if (e.record.status !== "running") continue;
      try {
        await this.#op(e.record.id, async (cur, live) => {
          if (cur.record.status !== "running") return;
          await this.#freeze(cur, live, signal);
          this.#autoPaused.push(cur.record.id);
          paused.push(cur.record.id);
        });
      } catch (err) {
        this.#log.warn({ sandboxId: e.record.id, err: String(err) }, "pause-all: pausing a capsule failed");
      }
    }
    return paused;
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
    const out = this.#autoPaused;
    this.#autoPaused = [];
    return out;
  }

  /** Stops the reaper, destroys every capsule and stops metrics sampling. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#reaper[Symbol.asyncDispose]();
    const results = await Promise.allSettled([...this.#entries.keys()].map((id) => this.destroy(id)));
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
  async #op(id: string, fn: (e: Entry, live: Live) => Promise<void>): Promise<SandboxRecord> {
    this.#entry(id);
    return this.#mutex.run(id, async () => {
      const e = this.#entry(id);
      if (!e.live) throw notInState(id, "running");
      await fn(e, e.live);
      return { ...e.record };
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

  async #reap(): Promise<void> {
    const due = (e: Entry) =>
      e.record.status === "running" &&
      e.record.timeoutSec > 0 &&
      this.#clock.now() >= e.record.lastActiveAt + e.record.timeoutSec * 1000;
    for (const e of [...this.#entries.values()].filter(due)) {
      const id = e.record.id;
      try {
        await this.#op(id, async (cur, live) => {
          if (!due(cur)) return; // pinged or paused while we waited for the lock
          await this.#freeze(cur, live);
          this.#autoPaused.push(id);
        });
      } catch (err) {
        this.#log.warn({ sandboxId: id, err: String(err) }, "auto-pause failed");
      }
    }
  }

  /**
   * The pause steps, lock held: sampler first (the reference leaked one timer per pause), then
   * envd, then the runtime. The template id needs no write here: it was persisted at create.
   */
  async #freeze(e: Entry, live: Live, signal?: AbortSignal): Promise<void> {
    const steps = new StepTimer(this.#o.onStep, "pause");
    // Not awaited: untrack stops the capsule's sampling at once (a read in flight stores
    // nothing), and waiting for the whole tick in flight (every capsule's reads, disk walks
    // included) would only delay the freeze; reading a frozen capsule's usage is harmless.
    steps.timeSync("metrics untrack", () => void this.#metrics.untrack(e.record.id));
    try {
      await steps.time("envd /snapshot/prepare", () => live.envd.prepareSnapshot(signal));
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
