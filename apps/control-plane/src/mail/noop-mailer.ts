/**
 * The {@link Mailer} used when no SMTP relay is configured and no outbox is
 * wanted: it validates and renders the message like the real ones (so bad
 * input fails the same way everywhere) and logs that it was not sent. The
 * body is never logged: it may hold an activation or reset link.
 */
import { type Logger, PlatformError } from "@wrenn/kit";
import type { Mailer, MailMessage } from "./mailer.js";
import { renderMail } from "./render.js";

/** Drops every message after logging its recipient and subject at `info`. */
export class NoopMailer implements Mailer {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** @throws PlatformError `invalid_argument` (see `renderMail`) or `canceled` when `signal` is already aborted. */
  async send(message: MailMessage, signal: AbortSignal): Promise<void> {
    const mail = renderMail(message);
    if (signal.aborted) throw PlatformError.from(signal.reason);
    this.#logger.info({ to: mail.to, subject: mail.subject }, "email not sent: SMTP is not configured");
  }
}
