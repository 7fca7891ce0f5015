import type {
  PauseMode,
  Runtime,
  RuntimeAvailability,
  RuntimeKind,
  SandboxExit,
  SandboxHandle,
  SandboxSpec,
  SandboxUsage,
} from "../../apps/host-agent/src/runtime/runtime.js";

/**
 * A Runtime that delegates to another and remembers each live capsule's handle, so the
 * benchmark can time the runtime's own pause/resume (without the agent's envd steps) and
 * read usage. The SandboxManager does not hand out handles; this wraps it from outside.
 */
export class RecordingRuntime implements Runtime {
  readonly kind: RuntimeKind;
  readonly #handles = new Map<string, SandboxHandle>();

  constructor(readonly inner: Runtime) {
    this.kind = inner.kind;
  }

  availability(): Promise<RuntimeAvailability> {
    return this.inner.availability();
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    const handle = await this.inner.create(spec, signal);
    const recorded = new RecordedHandle(handle, () => this.#handles.delete(spec.sandboxId));
    this.#handles.set(spec.sandboxId, recorded);
    return recorded;
  }

  /** The live handle of a capsule; throws once it was destroyed. */
  handle(sandboxId: string): SandboxHandle {
    const h = this.#handles.get(sandboxId);
    if (!h) throw new Error(`no live handle for ${sandboxId}`);
    return h;
  }
}

class RecordedHandle implements SandboxHandle {
  readonly envdUrl: string;
  readonly exited: Promise<SandboxExit>;
  readonly pausesInPlace: boolean;

  constructor(
    readonly inner: SandboxHandle,
    readonly forget: () => void,
  ) {
    this.envdUrl = inner.envdUrl;
    this.exited = inner.exited;
    // The manager decides on it which envd steps a pause and a resume need.
    this.pausesInPlace = inner.pausesInPlace === true;
  }

  pause(signal?: AbortSignal): Promise<PauseMode> {
    return this.inner.pause(signal);
  }

  resume(signal?: AbortSignal): Promise<void> {
    return this.inner.resume(signal);
  }

  usage(): Promise<SandboxUsage> {
    return this.inner.usage();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.forget();
    await this.inner[Symbol.asyncDispose]();
  }
}
