/** A password-reset message for the mailer tests: a recipient, a body and a link that holds a secret token. */
import type { MailMessage } from "./mailer.js";

/** The same message in every mailer test, so what one test says is never logged is checked everywhere. */
export const resetMessage: MailMessage = {
  to: "ada@example.com",
  subject: "Reset your Wrenn password",
  recipientName: "Ada",
  message: "Use the link.",
  button: { text: "Reset password", url: "https://app.wrenn.test/reset?token=deadbeef" },
};
