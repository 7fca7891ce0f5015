/** The shapes the SandboxManager hands out and takes in. */
import type { Logger } from "@wrenn/kit";
import type { EnvdClient } from "../envd-client/envd-client.js";
import type { Clock } from "../metrics/clock.js";
import type { NetworkProvider } from "../net/network-provider.js";
import type { MaterializedTemplate, PauseMode, Runtime, RuntimeImage } from "../runtime/runtime.js";
import type { LifecycleStepListener } from "./step-timer.js";
import type { WarmPoolConfig } from "./warm-pool.js";

/**
 * Where a capsule is in its life. Transitions: creating → running ⇄ paused; running or
 * paused → stopping → gone; a failed create goes creating → gone.
 * - `creating`: slot, runtime, envd /init and sampler being set up; no other operation yet.
 * - `running`: envd answers, the sampler runs, the TTL reaper watches `lastActiveAt`.
 * - `paused`: processes frozen (see `pauseMode`), sampler stopped, template id persisted.
 * - `stopping`: destroy in progress; everything is being released in reverse order.
 * - `gone`: released; the record has left the manager (only seen on records held from before).
 */
export type SandboxStatus = "creating" | "running" | "paused" | "stopping" | "gone";

/** One capsule as the agent reports it (ListSandboxes). */
export interface SandboxRecord {
  readonly id: string;
  readonly status: SandboxStatus;
  readonly templateId: string;
  readonly teamId: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  /** Idle seconds before the reaper auto-pauses; 0 = never. */
  readonly timeoutSec: number;
  /** Milliseconds since the epoch (manager clock). */
  readonly createdAt: number;
  readonly lastActiveAt: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** How the last pause kept the capsule; unset until paused once. */
  readonly pauseMode?: PauseMode;
  /** envd's base URL as the host reaches it. */
  readonly envdUrl?: string;
}

/** What CreateSandbox needs. */
export interface CreateSandboxInput {
  readonly sandboxId: string;
  readonly templateId: string;
  readonly teamId: string;
  readonly image: RuntimeImage;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
  readonly timeoutSec: number;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly envVars?: Readonly<Record<string, string>>;
  /** @default "root" */
  readonly defaultUser?: string;
  readonly accessToken?: string;
  /** @default false */
  readonly allowEgress?: boolean;
}

/** What ResumeSandbox may change; unset fields keep the values from create. */
export interface ResumeOverrides {
  /** Idle seconds before auto-pause; 0 = never. */
  readonly timeoutSec?: number;
  readonly defaultUser?: string;
  /** Merged over the env vars from create. */
  readonly envVars?: Readonly<Record<string, string>>;
  readonly accessToken?: string;
}

/** What SandboxManager.snapshot produced. */
export interface SnapshotResult {
  /** The capsule after the snapshot (paused; gone for a `base` template). */
  readonly record: SandboxRecord;
  readonly template: MaterializedTemplate;
}

/** Everything the manager depends on; nothing is read from the environment. */
export interface SandboxManagerOptions {
  readonly runtime: Runtime;
  readonly network: NetworkProvider;
  /** Parent of each capsule's state directory (`<stateRoot>/<sandboxId>`). */
  readonly stateRoot: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly log?: Logger;
  /** @default a plain EnvdClient on the handle's URL */
  readonly envdClient?: (baseUrl: string, accessToken?: string) => EnvdClient;
  /** Period of the one timer sampling every running capsule's usage (on the manager clock). @default 500 */
  readonly sampleIntervalMs?: number;
  /** Called while a capsule is destroyed (e.g. PortProxy.evict). */
  readonly onDestroy?: (sandboxId: string) => void;
  /** Called once a capsule is paused (e.g. PortProxy.evict: its pooled sockets go stale). */
  readonly onPause?: (sandboxId: string) => void;
  /** TTL reaper period. @default 2000 */
  readonly reaperIntervalMs?: number;
  /** Deadline of envd /health after resume (when envd does not answer the first /init). @default 15000 */
  readonly healthTimeoutMs?: number;
  /** Receives the duration of each step of create, pause and resume (benchmarks). */
  readonly onStep?: LifecycleStepListener;
  /**
   * Capsules of one template launched ahead of time, claimed by matching creates (see
   * warm-pool.ts). Absent or size 0: every create launches.
   */
  readonly warmPool?: WarmPoolConfig;
}

/** Where the port proxy reaches a capsule (see SandboxManager.guestAddress). */
export interface GuestAddress {
  readonly guestIp: string;
  /** The capsule exists but is frozen: it would accept a connection and never answer. */
  readonly paused: boolean;
}
