/**
 * How the sandbox manager reaches a capsule's envd: a client per capsule that
 * presents the capsule's access token, and the first `/init` of a capsule
 * restored from a memory snapshot, whose envd still holds the source
 * capsule's token.
 */
import { EnvdClient } from "../envd-client/envd-client.js";
import type { SandboxHandle } from "../runtime/runtime.js";
import { envdInitBody } from "./manager-helpers.js";
import type { CreateSandboxInput, SandboxManagerOptions } from "./sandbox-types.js";

/** Makes envd clients (through the manager's factory when it has one). */
export class EnvdConnector {
  constructor(private readonly factory: SandboxManagerOptions["envdClient"]) {}

  /** A client on the capsule's envd presenting `token` (none: no header). */
  client(handle: SandboxHandle, token: string | undefined): EnvdClient {
    return (
      this.factory?.(handle.envdUrl, token) ??
      new EnvdClient({ baseUrl: handle.envdUrl, ...(token !== undefined ? { accessToken: token } : {}) })
    );
  }

  /**
   * The first `/init` of a new capsule through `envd` (which presents the new token). When the
   * image says envd already holds another token (a memory snapshot), that token authenticates
   * the call, and the body replaces it with the new one — or clears it when there is none.
   */
  async firstInit(
    handle: SandboxHandle,
    envd: EnvdClient,
    input: CreateSandboxInput,
    nowMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const held = input.image.envdAccessToken;
    const body = envdInitBody(input, input.sandboxId, input.templateId, nowMs);
    if (held === undefined || held === input.accessToken) return envd.init(body, signal);
    const previous = this.client(handle, held);
    try {
      await previous.init({ ...body, accessToken: input.accessToken ?? null }, signal);
    } finally {
      previous.close();
    }
  }
}
