import type { PortForwarder, PortForwarderOptions } from "./port-forwarder.js";

/**
 * The port forwarder, loaded only when envd has a forward address and only
 * once it is first started (after envd listens): it brings
 * node:child_process and the /proc scanner, which `/health` does not need.
 * `start()`/`stop()` keep PortForwarder's synchronous, idempotent contract
 * (snapshot prepare and restore call them): the last call wins, also while
 * the module is still loading.
 */
export class LazyPortForwarder {
  readonly #options: PortForwarderOptions;
  #forwarder: PortForwarder | undefined;
  #loading: Promise<void> | undefined;
  #wanted = false;

  /** `options` as for PortForwarder; an undefined `bindAddress` makes every call a no-op. */
  constructor(options: PortForwarderOptions) {
    this.#options = options;
  }

  /** The loaded forwarder, undefined until the first start() has loaded it (diagnostics, tests). */
  get current(): PortForwarder | undefined {
    return this.#forwarder;
  }

  /** Starts forwarding, loading the forwarder first if needed. */
  start(): void {
    if (this.#options.bindAddress === undefined) return;
    this.#wanted = true;
    if (this.#forwarder) this.#forwarder.start();
    else this.#loading ??= this.#load();
  }

  /**
   * envd started a process that may soon listen: see PortForwarder.kick. A
   * no-op until the forwarder has loaded (its first ticks are fast anyway).
   */
  kick(): void {
    this.#forwarder?.kick();
  }

  /** Stops forwarding and signals every socat (their exit is not awaited). */
  stop(): void {
    this.#wanted = false;
    this.#forwarder?.stop();
  }

  /** Resolves once a pending load has finished and the last start/stop applied. */
  async settled(): Promise<void> {
    await this.#loading;
  }

  async #load(): Promise<void> {
    try {
      const { PortForwarder } = await import("./port-forwarder.js");
      this.#forwarder = new PortForwarder(this.#options);
      if (this.#wanted) this.#forwarder.start();
    } catch (err) {
      this.#options.log.error({ err }, "port forwarder failed to load; localhost ports are not forwarded");
    }
  }
}
