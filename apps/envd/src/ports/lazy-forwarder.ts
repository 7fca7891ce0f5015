import type { Logger } from "@wrenn/kit";
import type { PortForwarder } from "./port-forwarder.js";

/**
 * The port forwarder, loaded only when envd has a forward address and only
 * after envd listens: it brings node:child_process and the /proc scanner,
 * which `/health` does not need. `start()`/`stop()` keep PortForwarder's
 * synchronous, idempotent contract (snapshot prepare and restore call them):
 * the last call wins, also while the module is still loading.
 */
export class LazyPortForwarder {
  readonly #bindAddress: string | undefined;
  readonly #log: Logger;
  #forwarder: PortForwarder | undefined;
  #loading: Promise<void> | undefined;
  #wanted = false;

  constructor(bindAddress: string | undefined, log: Logger) {
    this.#bindAddress = bindAddress;
    this.#log = log;
  }

  /** Starts forwarding (loads the forwarder first); a no-op without a bind address. */
  start(): void {
    if (this.#bindAddress === undefined) return;
    this.#wanted = true;
    if (this.#forwarder) this.#forwarder.start();
    else this.#loading ??= this.#load(this.#bindAddress);
  }

  /** Stops forwarding and every socat (their exit is not awaited). */
  stop(): void {
    this.#wanted = false;
    this.#forwarder?.stop();
  }

  /** Resolves once a pending load finished (and the last start/stop applied). */
  async settled(): Promise<void> {
    await this.#loading;
  }

  async #load(bindAddress: string): Promise<void> {
    try {
      const { PortForwarder } = await import("./port-forwarder.js");
      this.#forwarder = new PortForwarder({ bindAddress, log: this.#log });
      if (this.#wanted) this.#forwarder.start();
    } catch (err) {
      this.#log.error({ err }, "port forwarder failed to load; localhost ports are not forwarded");
    }
  }
}
