/**
 * The control plane's side of agent mTLS (inventory §5.15 step 3): a client
 * certificate from the internal CA (CN `wrenn-cp`, 24 h), renewed at
 * half-life, handed to the host client pool as {@link HostTls}.
 */
import type { Clock, Logger } from "@wrenn/kit";
import type { IssuedCertificate } from "../pki/internal-ca.js";
import { RenewingCertificate } from "../pki/renewing-certificate.js";
import type { HostTls } from "./host-client-pool.js";

/** The part of the internal CA this needs (`InternalCa` is one). */
export interface ClientCertificateIssuer {
  /** The CA certificate, PEM: agents' server certificates chain to it. */
  readonly certPem: string;
  /** `now`: issue as if the time were this (ms since the epoch). */
  issueClientCert(options?: { readonly now?: number }): Promise<IssuedCertificate>;
}

/** Options of {@link ControlPlaneTls.start}. */
export interface ControlPlaneTlsOptions {
  /** Drives renewals and the issuing time. @default the system clock */
  readonly clock?: Clock;
  /** Failed renewals are logged here. */
  readonly logger?: Logger;
}

/**
 * Holds the current client TLS material. `current` returns the same object
 * until a renewal replaces it: the pool compares by identity and builds new
 * connection agents only then. Dispose to stop renewing.
 *
 * ```ts
 * const tls = await ControlPlaneTls.start(ca);
 * const pool = new HostClientPool({ tls: () => tls.current });
 * ```
 */
export class ControlPlaneTls implements Disposable {
  readonly #caPem: string;
  #cert: RenewingCertificate | undefined;
  #current: HostTls;

  private constructor(caPem: string, first: IssuedCertificate) {
    this.#caPem = caPem;
    this.#current = this.#toTls(first);
  }

  /**
   * Issues the first certificate and starts renewing.
   * @throws whatever the CA throws for the first certificate.
   */
  static async start(ca: ClientCertificateIssuer, options: ControlPlaneTlsOptions = {}): Promise<ControlPlaneTls> {
    let holder: ControlPlaneTls | undefined;
    const cert = await RenewingCertificate.start({
      issue: () => ca.issueClientCert(options.clock ? { now: options.clock.now() } : {}),
      onRenewed: (next) => {
        if (holder) holder.#current = holder.#toTls(next);
      },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    holder = new ControlPlaneTls(ca.certPem, cert.current);
    holder.#cert = cert;
    return holder;
  }

  /** The material to dial agents with now. */
  get current(): HostTls {
    return this.#current;
  }

  /** When the current certificate expires. */
  get notAfter(): Date {
    return this.#cert?.current.notAfter ?? new Date(0);
  }

  /** Resolves once no renewal is running (tests, orderly shutdown). */
  async whenIdle(): Promise<void> {
    await this.#cert?.whenIdle();
  }

  [Symbol.dispose](): void {
    this.#cert?.[Symbol.dispose]();
  }

  #toTls(cert: IssuedCertificate): HostTls {
    return Object.freeze({ caPem: this.#caPem, certPem: cert.certPem, keyPem: cert.keyPem });
  }
}
