/**
 * Fire-and-forget delivery of transactional mail for request handlers: a slow
 * or broken SMTP relay must neither delay nor fail a signup or a password
 * change (the reference sent every account email asynchronously, best
 * effort). Failures are logged with the recipient's domain only; a message
 * may carry an activation or reset link, so neither the body nor the full
 * address is logged.
 */
import type { Logger } from "@wrenn/kit";
import type { Mailer, MailMessage } from "../mail/mailer.js";

/** Sends mail in the background. */
export interface MailDispatch {
  /** Starts sending `message`; never throws and never waits. */
  send(message: MailMessage): void;
  /** Resolves once every send started so far has finished (graceful shutdown, tests). */
  drain(): Promise<void>;
}

/** Options of {@link createMailDispatch}. */
export interface MailDispatchOptions {
  readonly mailer: Mailer;
  readonly log: Logger;
  /** Deadline of one send, after which it is abandoned (`canceled`). @default 30 000 ms */
  readonly timeoutMs?: number;
}

/** Wraps a {@link Mailer} so request handlers can hand mail off without awaiting it. */
export function createMailDispatch(options: MailDispatchOptions): MailDispatch {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pending = new Set<Promise<void>>();
  return {
    send(message) {
      const sending = Promise.resolve()
        .then(() => options.mailer.send(message, AbortSignal.timeout(timeoutMs)))
        .catch((err: unknown) => {
          const domain = message.to.slice(message.to.lastIndexOf("@") + 1);
          options.log.warn({ err, subject: message.subject, domain }, "email not sent");
        })
        .finally(() => pending.delete(sending));
      pending.add(sending);
    },
    async drain() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
