/** What the SandboxManager keeps per capsule (internal to the manager and its helpers). */
import { join } from "node:path";
import { AsyncDisposableStore, PlatformError } from "@wrenn/kit";
import type { EnvdClient } from "../envd-client/envd-client.js";
import { MetricsStore } from "../metrics/metrics-store.js";
import type { SandboxHandle } from "../runtime/runtime.js";
import type { CreateSandboxInput, GuestAddress, SandboxRecord } from "./sandbox-types.js";

/** The record's fields, writable for the manager. */
export type MutableRecord = { -readonly [K in keyof SandboxRecord]: SandboxRecord[K] };

/** A capsule once the runtime started it: its handle and the envd client presenting its token. */
export interface Live {
  readonly handle: SandboxHandle;
  readonly envd: EnvdClient;
}

/** One capsule in the manager. */
export interface Entry {
  readonly record: MutableRecord;
  /** Owns, in order: state dir, network slot, runtime handle, envd client, metrics sampling, proxy eviction. */
  readonly store: AsyncDisposableStore;
  /** Create settings; resume may replace the default user, env and token (ResumeSandbox). */
  input: CreateSandboxInput;
  readonly stateDir: string;
  readonly metrics: MetricsStore;
  /** Set once the runtime started the capsule and envd took its first `/init`. */
  live?: Live;
  /** The guest's address as the port proxy wants it, built once at create (see guestAddress). */
  guest?: { readonly running: GuestAddress; readonly paused: GuestAddress };
}

// Ids become directory names and log fields: keep them boring.
const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * A new entry in `creating` for `input`, its state dir under `stateRoot`, `nowMs` as its
 * creation and last-activity time; `invalid_argument` for an id that cannot be a directory name.
 */
export function newEntry(input: CreateSandboxInput, stateRoot: string, nowMs: number): Entry {
  const id = input.sandboxId;
  if (!SANDBOX_ID.test(id)) throw new PlatformError("invalid_argument", "INVALID_SANDBOX_ID", "bad sandbox id");
  return {
    record: {
      id,
      status: "creating",
      templateId: input.templateId,
      teamId: input.teamId,
      vcpus: input.vcpus,
      memoryMb: input.memoryMb,
      timeoutSec: input.timeoutSec,
      createdAt: nowMs,
      lastActiveAt: nowMs,
      metadata: { ...(input.metadata ?? {}) },
    },
    store: new AsyncDisposableStore(),
    input,
    stateDir: join(stateRoot, id),
    metrics: new MetricsStore(),
  };
}
