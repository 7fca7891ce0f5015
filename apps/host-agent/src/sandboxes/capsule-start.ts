/**
 * The part of a create that gets a running capsule (envd answering, before `/init`): a claim
 * from the warm pool when the request matches and a capsule is ready, else a launch (network
 * slot + runtime create). Either way the pause metadata is written beside it, and everything
 * acquired lands in the entry's store in release order.
 */
import type { Logger } from "@wrenn/kit";
import type { SandboxHandle } from "../runtime/runtime.js";
import { runtimeSpec } from "./manager-helpers.js";
import { writePauseMetadata } from "./pause-metadata.js";
import type { Entry } from "./sandbox-entry.js";
import type { CreateSandboxInput, SandboxManagerOptions } from "./sandbox-types.js";
import type { StepTimer } from "./step-timer.js";
import type { PooledCapsule, WarmPool } from "./warm-pool.js";

/** What {@link startCapsule} works with. */
export interface CapsuleStart {
  readonly options: SandboxManagerOptions;
  readonly pool: WarmPool | undefined;
  readonly entry: Entry;
  readonly input: CreateSandboxInput;
  readonly steps: StepTimer;
  readonly log: Logger;
  readonly signal: AbortSignal | undefined;
}

/**
 * A running capsule for `s.input`, owned by `s.entry.store`. A pooled capsule that cannot be
 * claimed (it died, a step failed) is destroyed and the create launches instead; an abort is
 * not retried.
 */
export async function startCapsule(s: CapsuleStart): Promise<SandboxHandle> {
  const pooled = s.pool?.take(s.input);
  if (pooled) {
    try {
      return await s.steps.time("warm pool claim", () => claim(s, pooled));
    } catch (err) {
      await Promise.resolve(pooled[Symbol.asyncDispose]()).catch(() => undefined);
      if (s.signal?.aborted) throw err;
      s.log.warn({ sandboxId: s.input.sandboxId, err: String(err) }, "claiming a pooled capsule failed; launching");
    }
  }
  return launch(s);
}

/** The pause metadata: written once at create, nothing in it changes afterwards. */
function writeMeta(s: CapsuleStart): Promise<void> {
  return s.steps.time("pause metadata", () =>
    writePauseMetadata(s.entry.stateDir, { sandboxId: s.input.sandboxId, templateId: s.input.templateId }),
  );
}

/**
 * Gives a pooled capsule the request's identity and shape (limits, hostname, tmpfs sizes:
 * AdoptableHandle.adopt), its egress setting and the metadata file, all at once; on success
 * the entry's store owns it (capsule, slot and pool directory released together).
 */
async function claim(s: CapsuleStart, pooled: PooledCapsule): Promise<SandboxHandle> {
  const { input, signal } = s;
  const done = await Promise.allSettled([
    s.steps.time("adopt", () =>
      pooled.handle.adopt({ sandboxId: input.sandboxId, vcpus: input.vcpus, memoryMb: input.memoryMb }, signal),
    ),
    input.allowEgress === true ? s.options.network.setEgress(pooled.slot, true, signal) : Promise.resolve(),
    writeMeta(s),
  ]);
  for (const d of done) if (d.status === "rejected") throw d.reason;
  await s.entry.store.add(pooled);
  s.log.info({ sandboxId: input.sandboxId, poolId: pooled.poolId }, "claimed a pooled capsule");
  return pooled.handle;
}

/** The cold path: a network slot, then the runtime starts the capsule while the metadata is written. */
async function launch(s: CapsuleStart): Promise<SandboxHandle> {
  const { entry, input, signal, steps } = s;
  const { store } = entry;
  const slot = await store.add(
    await steps.time("network slot", () =>
      s.options.network.acquire(input.sandboxId, { allowEgress: input.allowEgress ?? false }, signal),
    ),
  );
  // Both settle before anything is released on failure.
  const [meta, created] = await Promise.allSettled([
    writeMeta(s),
    steps.time("runtime create", () => s.options.runtime.create(runtimeSpec(input, slot, entry.stateDir), signal)),
  ]);
  if (created.status === "rejected") throw created.reason;
  const handle = await store.add(created.value);
  if (meta.status === "rejected") throw meta.reason;
  return handle;
}
