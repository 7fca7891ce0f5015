/** The plain WebSocket client the e2e suites talk to capsule WebSockets with. */
import WebSocket from "ws";

/** A JSON message of a capsule WebSocket. */
export type WsMessage = { type: string; [k: string]: unknown };

/** A WebSocket client (the `ws` package) that collects JSON messages and can wait for one matching a predicate. */
export class WsClient {
  readonly messages: WsMessage[] = [];
  readonly ws: WebSocket;
  #waiters: Array<{ pred: (m: WsMessage) => boolean; resolve: (m: WsMessage) => void }> = [];
  closed: Promise<number>;
  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on("message", (d) => {
      const m = JSON.parse(String(d)) as WsMessage;
      this.messages.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.closed = new Promise((r) => this.ws.on("close", (code) => r(code)));
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }
  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }
  waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 15_000): Promise<WsMessage> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`timeout; got ${JSON.stringify(this.messages).slice(-500)}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }
  output(): string {
    return this.messages
      .filter((m) => m.type === "output")
      .map((m) => Buffer.from(String(m["data"]), "base64").toString())
      .join("");
  }
}
