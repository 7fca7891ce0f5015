import type { Logger } from "@wrenn/kit";
import type { MailConfig } from "../config.js";
import type { Mailer } from "./mailer.js";
import { NoopMailer } from "./noop-mailer.js";
import { OutboxMailer } from "./outbox-mailer.js";
import { SmtpMailer } from "./smtp-mailer.js";

/** The mailer `WRENN_MAIL` selects: SMTP, the local outbox file (`./wrenn up`), or the log only. */
export function mailerFromConfig(mail: MailConfig, log: Logger): Mailer {
  switch (mail.kind) {
    case "smtp":
      return new SmtpMailer({
        host: mail.host,
        port: mail.port,
        ...(mail.username !== undefined ? { username: mail.username } : {}),
        ...(mail.password !== undefined ? { password: mail.password } : {}),
        from: mail.from,
        logger: log,
      });
    case "outbox":
      return new OutboxMailer({ path: mail.path });
    case "log":
      return new NoopMailer(log);
  }
}
