/**
 * Sends mail through an SMTP relay with nodemailer: implicit TLS on port 465,
 * otherwise a plain connection upgraded with STARTTLS whenever the server
 * offers it; AUTH PLAIN when credentials are configured. One connection per
 * message (mail is rare: signups, resets), so there is no pool to keep healthy.
 */
import type { ConnectionOptions } from "node:tls";
import { type Logger, PlatformError, silentLogger } from "@wrenn/kit";
import { createTransport, type Transporter } from "nodemailer";
import type { Mailer, MailMessage } from "./mailer.js";
import { isMailAddress, renderMail } from "./render.js";

/** Options of {@link SmtpMailer}; `config.ts` maps the `SMTP_*` variables onto these. */
export interface SmtpMailerOptions {
  /** Relay host (`SMTP_HOST`). */
  readonly host: string;
  /** Relay port (`SMTP_PORT`); 465 means implicit TLS. @default 587 */
  readonly port?: number;
  /** AUTH PLAIN user (`SMTP_USERNAME`); no authentication when absent. */
  readonly username?: string;
  /** AUTH PLAIN password (`SMTP_PASSWORD`). */
  readonly password?: string;
  /** Sender address (`SMTP_FROM_EMAIL`), shown as `"Wrenn" <from>`. */
  readonly from: string;
  /** TLS from the first byte instead of STARTTLS. @default port === 465 */
  readonly implicitTls?: boolean;
  /** Never upgrade with STARTTLS even when offered (tests against a plain local server). @default false */
  readonly ignoreTLS?: boolean;
  /** Extra TLS options, e.g. `ca` for a relay with a private certificate. */
  readonly tls?: ConnectionOptions;
  /** Connection, greeting and per-command timeout in ms. @default 15000 */
  readonly timeoutMs?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

/** The display name of every mail's From header. */
export const MAIL_FROM_NAME = "Wrenn";

/** A {@link Mailer} over SMTP. */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;
  readonly #logger: Logger;

  /** @throws PlatformError `invalid_argument` / `SMTP_CONFIG_INVALID` for a bad sender, port or half-set credentials. */
  constructor(options: SmtpMailerOptions) {
    const port = options.port ?? 587;
    const invalid = (what: string) => new PlatformError("invalid_argument", "SMTP_CONFIG_INVALID", what);
    if (!isMailAddress(options.from)) throw invalid("the SMTP sender address is not a valid email address");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid("the SMTP port must be 1-65535");
    if ((options.username === undefined) !== (options.password === undefined)) {
      throw invalid("set both the SMTP username and password, or neither");
    }
    const timeout = options.timeoutMs ?? 15_000;
    this.#from = options.from;
    this.#logger = options.logger ?? silentLogger;
    this.#transport = createTransport({
      host: options.host,
      port,
      secure: options.implicitTls ?? port === 465,
      ignoreTLS: options.ignoreTLS ?? false,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.username !== undefined
        ? { auth: { user: options.username, pass: options.password ?? "" }, authMethod: "PLAIN" }
        : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      logger: false,
    });
  }

  /**
   * Sends one message.
   * @throws PlatformError `invalid_argument` (see `renderMail`), `canceled` (or
   * `deadline_exceeded` for a timeout signal) when `signal` aborts, `unavailable` / `MAIL_SEND_FAILED` when the relay fails (its
   * reply is in `cause`, for logs only).
   */
  async send(message: MailMessage, signal: AbortSignal): Promise<void> {
    const mail = renderMail(message);
    if (signal.aborted) throw PlatformError.from(signal.reason);
    try {
      await this.#transport.sendMail({
        from: { name: MAIL_FROM_NAME, address: this.#from },
        to: { name: mail.recipientName, address: mail.to },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw PlatformError.from(signal.reason);
      this.#logger.warn({ err, subject: mail.subject }, "SMTP send failed");
      throw new PlatformError("unavailable", "MAIL_SEND_FAILED", "sending the email failed", { cause: err });
    }
  }
}
