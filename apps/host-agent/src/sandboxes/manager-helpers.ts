/** Small pieces the SandboxManager uses, kept apart to keep the manager readable. */
import { PlatformError } from "@wrenn/kit";
import type { EnvdClient } from "../envd-client/envd-client.js";
import type { NetworkSlot } from "../net/network-provider.js";
import type { SandboxSpec } from "../runtime/runtime.js";
import type { CreateSandboxInput, GuestAddress, ResumeOverrides } from "./sandbox-types.js";

/** The error for an operation that needs the capsule in another state. */
export function notInState(id: string, wanted: "running" | "paused"): PlatformError {
  return wanted === "running"
    ? new PlatformError("failed_precondition", "SANDBOX_NOT_RUNNING", `sandbox ${id} is not running`)
    : new PlatformError("failed_precondition", "SANDBOX_NOT_PAUSED", `sandbox ${id} is not paused`);
}

/** Runs `/bin/sync` in the guest so a copied disk holds what the guest wrote (VM page cache). */
export async function guestSync(envd: EnvdClient, signal?: AbortSignal): Promise<void> {
  const deadline = AbortSignal.timeout(60_000);
  const events = envd.process.start(
    { process: { cmd: "/bin/sync", args: [], envs: {} } },
    { signal: signal ? AbortSignal.any([signal, deadline]) : deadline },
  );
  for await (const _ of events) {
    // Drained until the process ends.
  }
}

/** The two frozen answers SandboxManager.guestAddress hands out for a capsule at `envdUrl`. */
export function guestAddresses(envdUrl: string): { readonly running: GuestAddress; readonly paused: GuestAddress } {
  const guestIp = new URL(envdUrl).hostname.replace(/^\[|\]$/g, "");
  return { running: Object.freeze({ guestIp, paused: false }), paused: Object.freeze({ guestIp, paused: true }) };
}

/** The body of envd's `POST /init` (create and resume): default user, env vars, token, clock, ids. */
export function envdInitBody(
  input: CreateSandboxInput,
  sandboxId: string,
  templateId: string,
  nowMs: number,
): Record<string, unknown> {
  return {
    defaultUser: input.defaultUser ?? "root",
    envVars: { ...(input.envVars ?? {}) },
    ...(input.accessToken !== undefined ? { accessToken: input.accessToken } : {}),
    timestamp: new Date(nowMs).toISOString(),
    sandboxId,
    templateId,
  };
}

/** What the runtime gets to start a capsule: the create settings, its slot and state dir. */
export function runtimeSpec(input: CreateSandboxInput, network: NetworkSlot, stateDir: string): SandboxSpec {
  return {
    sandboxId: input.sandboxId,
    templateId: input.templateId,
    image: input.image,
    vcpus: input.vcpus,
    memoryMb: input.memoryMb,
    diskMb: input.diskMb,
    network,
    stateDir,
  };
}

/** The create settings after ResumeSandbox: set user and token replace, env vars merge over. */
export function withResumeOverrides(input: CreateSandboxInput, overrides: ResumeOverrides): CreateSandboxInput {
  return {
    ...input,
    ...(overrides.defaultUser !== undefined ? { defaultUser: overrides.defaultUser } : {}),
    ...(overrides.accessToken !== undefined ? { accessToken: overrides.accessToken } : {}),
    envVars: { ...(input.envVars ?? {}), ...(overrides.envVars ?? {}) },
  };
}
