/**
 * A {@link Mailer} that keeps what it is asked to send, for tests. It renders
 * every message first, exactly as the real mailers do, so a message the SMTP
 * mailer would refuse fails here too.
 */
import { PlatformError } from "@wrenn/kit";
import type { Mailer, MailMessage } from "../../mail/mailer.js";
import { renderMail } from "../../mail/render.js";

/** Records sent mail in memory. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];

  async send(message: MailMessage, signal: AbortSignal): Promise<void> {
    renderMail(message);
    if (signal.aborted) throw PlatformError.from(signal.reason);
    this.sent.push(message);
  }

  /** Messages to `to` (case-insensitive), oldest first. */
  to(to: string): MailMessage[] {
    return this.sent.filter((m) => m.to.toLowerCase() === to.toLowerCase());
  }

  /** The `token` query parameter of the button link of the latest message to `to` with `subject`. */
  tokenFrom(to: string, subject: RegExp): string {
    const message = this.to(to).findLast((m) => subject.test(m.subject));
    const url = message?.button?.url;
    if (url === undefined) throw new Error(`no mail to ${to} matching ${subject} with a link`);
    const token = new URL(url).searchParams.get("token");
    if (token === null) throw new Error("the link has no token");
    return token;
  }
}
