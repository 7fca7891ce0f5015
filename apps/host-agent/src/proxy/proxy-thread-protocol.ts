/**
 * Messages between the agent's main thread and its proxy thread ({@link ProxyThread} and
 * `proxy-worker.ts`). Only plain data crosses: structured clone, no functions, no sockets.
 */
import type { TlsMaterial } from "./hardened-server.js";
import type { GuestAddress } from "./port-proxy.js";
import type { ProxyAgentOptions } from "./proxy-agent.js";

/** What the proxy thread starts with (its `workerData`). */
export interface ProxyThreadData {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsMaterial | undefined;
  readonly headersTimeoutMs?: number | undefined;
  readonly keepAliveTimeoutMs?: number | undefined;
  readonly pool?: Omit<ProxyAgentOptions, "dialRetry"> | undefined;
}

/** Main thread → proxy thread. */
export type ToProxyThread =
  | { readonly kind: "resolved"; readonly seq: number; readonly guest: GuestAddress | undefined }
  | { readonly kind: "evict"; readonly sandboxId: string }
  | { readonly kind: "tls"; readonly material: TlsMaterial }
  | { readonly kind: "stop-accepting" }
  | { readonly kind: "close" };

/** Proxy thread → main thread. */
export type FromProxyThread =
  | { readonly kind: "listening"; readonly port: number }
  | { readonly kind: "resolve"; readonly seq: number; readonly sandboxId: string }
  | {
      readonly kind: "log";
      readonly level: "debug" | "info" | "warn" | "error";
      readonly fields: Record<string, unknown>;
      readonly msg: string | undefined;
    };
