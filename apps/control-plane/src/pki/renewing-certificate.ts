/**
 * Keeps a short-lived certificate fresh: the control plane's 24-hour client
 * certificate is renewed at half-life (12 h), so a failed renewal still leaves
 * hours of validity in which the retry can succeed.
 */
import { type Clock, type Logger, PlatformError, silentLogger, systemClock } from "@wrenn/kit";
import type { IssuedCertificate } from "./internal-ca.js";

/** Options of {@link RenewingCertificate.start}. */
export interface RenewingCertificateOptions {
  /** Produces a new certificate, e.g. `() => ca.issueClientCert()`. */
  readonly issue: () => Promise<IssuedCertificate>;
  /** Called after each successful renewal (not for the first certificate), e.g. to rebuild a TLS agent. */
  readonly onRenewed?: (cert: IssuedCertificate) => void;
  /** @default systemClock (unref'd timers) */
  readonly clock?: Clock;
  /** Warnings about failed renewals go here. @default silentLogger */
  readonly logger?: Logger;
  /** Delay before retrying a failed renewal, in ms (never past the point where half the remaining validity is left). @default 60000 */
  readonly retryDelayMs?: number;
}

/**
 * Holds the current certificate and renews it when half of its lifetime,
 * counted from when it was obtained, has passed. Dispose to stop renewing;
 * a renewal still in flight at that point is discarded.
 */
export class RenewingCertificate implements Disposable {
  #current: IssuedCertificate;
  #timer: unknown;
  #disposed = false;
  #inFlight: Promise<void> | undefined;
  readonly #options: RenewingCertificateOptions;
  readonly #clock: Clock;

  private constructor(first: IssuedCertificate, options: RenewingCertificateOptions) {
    this.#current = first;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#scheduleRenewal();
  }

  /**
   * Obtains the first certificate and starts the schedule.
   * @throws whatever `issue` throws for the first certificate (nothing to fall back on yet).
   */
  static async start(options: RenewingCertificateOptions): Promise<RenewingCertificate> {
    return new RenewingCertificate(await options.issue(), options);
  }

  /** The certificate to use now. */
  get current(): IssuedCertificate {
    return this.#current;
  }

  /** Resolves once no renewal is running (tests, and orderly shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#clock.clearTimeout(this.#timer);
  }

  #scheduleRenewal(): void {
    const now = this.#clock.now();
    const remaining = this.#current.notAfter.getTime() - now;
    this.#arm(Math.max(0, remaining / 2));
  }

  #arm(delayMs: number): void {
    if (this.#disposed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#inFlight = this.#renew().finally(() => {
        this.#inFlight = undefined;
      });
    }, delayMs);
  }

  async #renew(): Promise<void> {
    let next: IssuedCertificate;
    try {
      next = await this.#options.issue();
    } catch (err) {
      if (this.#disposed) return;
      const remaining = this.#current.notAfter.getTime() - this.#clock.now();
      const retry = Math.min(this.#options.retryDelayMs ?? 60_000, Math.max(1000, remaining / 2));
      const { code, reason } = PlatformError.from(err);
      (this.#options.logger ?? silentLogger).warn(
        { code, reason, retryInMs: retry, err },
        "certificate renewal failed",
      );
      this.#arm(retry);
      return;
    }
    if (this.#disposed) return;
    this.#current = next;
    this.#scheduleRenewal();
    try {
      this.#options.onRenewed?.(next);
    } catch (err) {
      // The new certificate is in place either way; a listener's bug must not stop renewals.
      (this.#options.logger ?? silentLogger).error({ err }, "certificate renewal listener failed");
    }
  }
}
