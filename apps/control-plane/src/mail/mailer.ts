/**
 * The transactional-mail contract: services build a {@link MailMessage} (see
 * `templates.ts`) and hand it to whichever {@link Mailer} `main.ts` picked —
 * SMTP in production, a JSON-lines outbox for `./wrenn up`, or a no-op that
 * only logs. Every mail uses the same layout (greeting, message, optional
 * button, closing), rendered by `render.ts` as text and HTML.
 */

/** A call-to-action link shown as a button in HTML and as a plain line in text. */
export interface MailButton {
  readonly text: string;
  /** Must be an absolute `http:` or `https:` URL. */
  readonly url: string;
}

/** One transactional email to one recipient. All fields are plain text (never HTML). */
export interface MailMessage {
  /** The recipient's address, e.g. `ada@example.com`. */
  readonly to: string;
  readonly subject: string;
  /** Used in the greeting ("Hello Ada,") and as the To display name; may be empty. */
  readonly recipientName: string;
  /** The body; blank lines separate paragraphs. */
  readonly message: string;
  readonly button?: MailButton;
  /** Replaces the default closing line. */
  readonly closing?: string;
}

/** Sends transactional mail. Implementations reject with a `PlatformError`. */
export interface Mailer {
  /**
   * Sends one message. Aborting `signal` cancels the send (`canceled`), though
   * a server may already have accepted it.
   */
  send(message: MailMessage, signal: AbortSignal): Promise<void>;
}
