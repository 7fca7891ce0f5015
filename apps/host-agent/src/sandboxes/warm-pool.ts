/**
 * The warm pool: capsules of one template launched ahead of time (overlay, cgroup, network
 * slot, envd running, its RPC code loaded, but no `/init` yet), so a create that matches only claims
 * one and gives it its identity (SandboxManager → capsule-start.ts). A background refill
 * launches replacements one at a time, and only while no create is in flight: a create never
 * waits for the pool, and the pool never takes the CPU from a create more than one launch.
 *
 * Pooled capsules are not the manager's: not listed, not sampled, not counted as running.
 * Their ids (`pool.<n>`) contain a dot, which a sandbox id cannot (sandbox-entry.ts), so their
 * state directory, cgroup and slot can never collide with a capsule's. A crashed agent's pooled
 * capsules are removed at the next start like any capsule (every cgroup under the agent's
 * parent, every directory under the state root).
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AsyncDisposableStore, type Logger } from "@wrenn/kit";
import type { AcquiredSlot, NetworkProvider } from "../net/network-provider.js";
import type { AdoptIdentity } from "../runtime/namespace/capsule-adopt.js";
import { warmEnvd } from "../runtime/qemu/envd-warmup.js";
import type { RuntimeImage, SandboxHandle, SandboxSpec } from "../runtime/runtime.js";
import type { CreateSandboxInput } from "./sandbox-types.js";

/** A handle that can take on a create's identity after launch (NamespaceHandle). */
export interface AdoptableHandle extends SandboxHandle {
  /** Applies the identity and shape; rejects when it cannot (the caller destroys the capsule). */
  adopt(identity: AdoptIdentity, signal?: AbortSignal): Promise<void>;
}

/** A runtime whose capsules can be pooled (NamespaceRuntime). */
export interface PoolRuntime {
  create(spec: SandboxSpec, signal?: AbortSignal): Promise<AdoptableHandle>;
}

/** The pool's settings (SandboxManagerOptions.warmPool). */
export interface WarmPoolConfig {
  /** Capsules kept ready; 0 disables the pool. The agent's WRENN_WARM_POOL (default 2). */
  readonly size: number;
  /** Launches the pooled capsules; must be the manager's runtime (their handles are destroyed alike). */
  readonly runtime: PoolRuntime;
  /** The template the pool holds: only creates from this exact image are served. */
  readonly templateId: string;
  readonly image: RuntimeImage;
  /** Shape at launch; a claim applies the request's own (limits and tmpfs sizes). */
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
  /**
   * How long after a create the refill starts: a client's first command usually follows its
   * create at once, and a launch (a Node start, ~100 ms of CPU) beside it would slow exactly
   * that command on a small host. @default 100
   */
  readonly refillDelayMs?: number;
}

/** What the pool needs from its manager. */
export interface WarmPoolDeps {
  readonly network: NetworkProvider;
  readonly stateRoot: string;
  readonly log: Logger;
  /** True while a create is in flight: the refill stops and the manager kicks it afterwards. */
  readonly busy: () => boolean;
}

/** One ready capsule; disposing it destroys the capsule, frees its slot and removes its directory. */
export interface PooledCapsule extends AsyncDisposable {
  readonly poolId: string;
  readonly handle: AdoptableHandle;
  readonly slot: AcquiredSlot;
}

/** Whether two images are the same files with nothing else to restore (no snapshot, no held token). */
function sameImage(a: RuntimeImage, b: RuntimeImage): boolean {
  return (
    a.rootfsDir === b.rootfsDir &&
    a.ext4Path === b.ext4Path &&
    a.kernelPath === b.kernelPath &&
    a.initrdPath === b.initrdPath &&
    a.vmSnapshot === undefined &&
    b.vmSnapshot === undefined &&
    a.envdAccessToken === undefined &&
    b.envdAccessToken === undefined
  );
}

/** Capsules launched ahead of time for one template, and their refill. */
export class WarmPool implements AsyncDisposable {
  readonly #c: WarmPoolConfig;
  readonly #d: WarmPoolDeps;
  readonly #ready: PooledCapsule[] = [];
  #seq = 0;
  #refill: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Aborts a launch in flight at dispose (shutdown does not wait for a capsule nobody will use). */
  readonly #abort = new AbortController();
  #disposed = false;

  constructor(config: WarmPoolConfig, deps: WarmPoolDeps) {
    if (!Number.isInteger(config.size) || config.size < 0) throw new Error("warm pool size must be an integer ≥ 0");
    this.#c = config;
    this.#d = deps;
  }

  /** Capsules ready to be claimed now. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Whether a create with `input` could be served by this pool (when a capsule is ready). */
  serves(input: CreateSandboxInput): boolean {
    return this.#c.size > 0 && sameImage(input.image, this.#c.image);
  }

  /**
   * A ready capsule for `input`, removed from the pool (the caller owns it now), or undefined:
   * the input is not the pool's template, or none is ready (the caller launches; never waits).
   */
  take(input: CreateSandboxInput): PooledCapsule | undefined {
    if (this.#disposed || !this.serves(input)) return undefined;
    return this.#ready.shift();
  }

  /**
   * Starts the refill unless one runs, the pool is full or a create is in flight. Called at
   * start and after every create. A failed launch stops the refill until the next kick (no
   * retry loop against a broken host).
   */
  kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#disposed || this.#refill || this.#c.size === 0) return;
    this.#refill = this.#fill().finally(() => {
      this.#refill = undefined;
    });
  }

  /** {@link kick} after `refillDelayMs` (after a create); a later call restarts the wait. */
  kickAfterCreate(): void {
    if (this.#disposed || this.#c.size === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), this.#c.refillDelayMs ?? 100);
    // A pending refill must not keep the process alive.
    this.#timer.unref();
  }

  /**
   * Resolves once the pool is idle: no refill waiting to start or running (it stops when full,
   * after a failed launch, or when a create comes). For tests and benchmarks.
   */
  async settled(): Promise<void> {
    while (this.#timer || this.#refill) {
      if (this.#timer) await new Promise((r) => setTimeout(r, 10));
      await this.#refill;
    }
  }

  /** Stops the refill and destroys every ready capsule (agent shutdown). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort(new Error("the warm pool is shut down"));
    await this.#refill;
    const all = this.#ready.splice(0);
    const results = await Promise.allSettled(all.map((c) => c[Symbol.asyncDispose]()));
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (errors.length > 0) throw new AggregateError(errors, "destroying pooled capsules failed");
  }

  async #fill(): Promise<void> {
    while (!this.#disposed && this.#ready.length < this.#c.size && !this.#d.busy()) {
      let capsule: PooledCapsule;
      try {
        capsule = await this.#launch();
      } catch (err) {
        if (!this.#disposed) this.#d.log.warn({ err: String(err) }, "warm pool: launching a capsule failed");
        return;
      }
      if (this.#disposed) {
        await capsule[Symbol.asyncDispose]();
        return;
      }
      this.#ready.push(capsule);
      this.#d.log.info({ poolId: capsule.poolId, ready: this.#ready.length }, "warm pool: capsule ready");
      void capsule.handle.exited.then((exit) => this.#lost(capsule, exit.code, exit.signal));
    }
  }

  async #launch(): Promise<PooledCapsule> {
    const poolId = `pool.${++this.#seq}`;
    const stateDir = join(this.#d.stateRoot, poolId);
    const store = new AsyncDisposableStore();
    const signal = this.#abort.signal;
    try {
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      store.defer(() => rm(stateDir, { recursive: true, force: true }));
      const slot = await store.add(await this.#d.network.acquire(poolId, { allowEgress: false }, signal));
      const c = this.#c;
      const spec: SandboxSpec = {
        sandboxId: poolId,
        templateId: c.templateId,
        image: c.image,
        vcpus: c.vcpus,
        memoryMb: c.memoryMb,
        diskMb: c.diskMb,
        network: slot,
        stateDir,
      };
      const handle = await store.add(await c.runtime.create(spec, signal));
      // envd loads its RPC code on first use: one `/bin/true` and one `Stat /` now, before any
      // `/init`, so a claimed capsule's first command finds it loaded (as a QEMU template's).
      await warmEnvd(handle.envdUrl, signal);
      return { poolId, handle, slot, [Symbol.asyncDispose]: () => store[Symbol.asyncDispose]() };
    } catch (err) {
      await store[Symbol.asyncDispose]().catch(() => undefined);
      throw err;
    }
  }

  /** A ready capsule whose init ended (nobody claimed it): destroyed and replaced. */
  async #lost(capsule: PooledCapsule, code: number | null, signal: string | null): Promise<void> {
    const at = this.#ready.indexOf(capsule);
    if (at < 0) return; // claimed (the manager watches it now) or being disposed
    this.#ready.splice(at, 1);
    this.#d.log.warn({ poolId: capsule.poolId, code, signal }, "warm pool: a ready capsule exited; replacing it");
    await Promise.resolve(capsule[Symbol.asyncDispose]()).catch((err: unknown) =>
      this.#d.log.error({ poolId: capsule.poolId, err: String(err) }, "warm pool: releasing an exited capsule failed"),
    );
    this.kick();
  }
}
