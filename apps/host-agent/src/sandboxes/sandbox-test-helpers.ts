import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../metrics/clock.js";
import { MemoryNetwork } from "../net/memory-network.js";
import { DEFAULT_NET_CONFIG } from "../net/net-config.js";
import { DEFAULT_ENVD_BUNDLE, LoopbackRuntime } from "./loopback-runtime.js";
import { SandboxManager } from "./sandbox-manager.js";
import type { CreateSandboxInput, SandboxManagerOptions } from "./sandbox-types.js";

/** Why the manager tests cannot run, or false. @internal */
export const envdSkip: string | false = existsSync(DEFAULT_ENVD_BUNDLE)
  ? false
  : `${DEFAULT_ENVD_BUNDLE} is missing: run npm run build -w @wrenn/envd`;

/** A manager on LoopbackRuntime + MemoryNetwork in a temp state root. @internal */
export interface TestManager extends AsyncDisposable {
  readonly mgr: SandboxManager;
  readonly network: MemoryNetwork;
  readonly stateRoot: string;
}

/** Builds a {@link TestManager}; dispose checks nothing is left in the state root. @internal */
export async function testManager(
  opts: Partial<Omit<SandboxManagerOptions, "network" | "stateRoot">> = {},
): Promise<TestManager> {
  const stateRoot = await mkdtemp(join(tmpdir(), "wrenn-sbm-"));
  const network = new MemoryNetwork({ ...DEFAULT_NET_CONFIG, prefix: "sbmt", poolSize: 0, slotCount: 64 });
  await network.start();
  const mgr = new SandboxManager({ runtime: new LoopbackRuntime(), ...opts, network, stateRoot });
  return {
    mgr,
    network,
    stateRoot,
    async [Symbol.asyncDispose]() {
      try {
        await mgr[Symbol.asyncDispose]();
        await network[Symbol.asyncDispose]();
        const left = await readdir(stateRoot);
        if (left.length > 0) throw new Error(`state root not empty after dispose: ${left.join(", ")}`);
      } finally {
        await rm(stateRoot, { recursive: true, force: true });
      }
    },
  };
}

/** A create input with small defaults. @internal */
export function input(sandboxId: string, extra: Partial<CreateSandboxInput> = {}): CreateSandboxInput {
  return {
    sandboxId,
    templateId: "tpl-base",
    teamId: "team-1",
    image: { rootfsDir: "/" },
    vcpus: 1,
    memoryMb: 256,
    diskMb: 1024,
    timeoutSec: 0,
    ...extra,
  };
}

/** Polls `check` every 20 ms for up to `ms`. @internal */
export async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** A ManualClock starting at the wall clock (envd reads /init timestamps as real dates). @internal */
export function wallManualClock(): ManualClock {
  return new ManualClock(Date.now());
}
