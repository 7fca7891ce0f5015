/**
 * Test support: one short WebSocket conversation with the control plane —
 * connect (optionally with header credentials), send some messages, collect
 * what comes back until the server closes — reported as data so the
 * authorization and bad-input matrices can assert on it.
 */
import WebSocket from "ws";

/** A JSON message from the server. */
export type WsMessage = { readonly type: string; readonly [key: string]: unknown };

/** How a {@link probeWs} conversation ended. */
export interface WsProbeResult {
  /** HTTP status when the upgrade was refused (no socket was opened). */
  readonly refusedStatus: number | undefined;
  /** Body of a refused upgrade. */
  readonly refusedBody: string;
  readonly opened: boolean;
  readonly messages: readonly WsMessage[];
  /** Close code sent by the server; undefined if it was still open when the probe gave up. */
  readonly closeCode: number | undefined;
}

/** Options of {@link probeWs}. */
export interface WsProbeOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent in order once the socket opens (strings as they are, anything else as JSON). */
  readonly send?: readonly unknown[];
  /**
   * How long to wait for the server to close before giving up (the probe
   * then closes the socket itself and reports `closeCode: undefined`).
   * @default 5000 ms
   */
  readonly waitMs?: number;
}

/** Runs one conversation with the WebSocket at `url` (see {@link WsProbeOptions}). */
export function probeWs(url: string, options: WsProbeOptions = {}): Promise<WsProbeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { ...options.headers } });
    const messages: WsMessage[] = [];
    let opened = false;
    let settled = false;
    const finish = (result: Omit<WsProbeResult, "messages" | "opened">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, opened, messages });
    };
    const timer = setTimeout(() => {
      finish({ refusedStatus: undefined, refusedBody: "", closeCode: undefined });
      ws.terminate();
    }, options.waitMs ?? 5000);
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        finish({ refusedStatus: res.statusCode, refusedBody: Buffer.concat(chunks).toString(), closeCode: undefined });
        ws.terminate();
      });
    });
    ws.on("open", () => {
      opened = true;
      for (const message of options.send ?? [])
        ws.send(typeof message === "string" ? message : JSON.stringify(message));
    });
    ws.on("message", (data) => messages.push(JSON.parse(String(data)) as WsMessage));
    ws.on("close", (code) => finish({ refusedStatus: undefined, refusedBody: "", closeCode: code }));
    ws.on("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
  });
}
