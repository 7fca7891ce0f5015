import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MailMessage } from "./mailer.js";
import { renderMail } from "./render.js";
import {
  accountDeletedEmail,
  accountPurgedEmail,
  activationEmail,
  addedToTeamEmail,
  passwordChangedEmail,
  passwordResetCompletedEmail,
  passwordResetEmail,
  teamCreatedEmail,
} from "./templates.js";

const who = { to: "ada@example.com", name: "Ada" };
const dashboardUrl = "https://app.wrenn.test/dashboard";

describe("email templates", () => {
  const cases: Array<[string, MailMessage, RegExp, RegExp, string | undefined]> = [
    [
      "activation",
      activationEmail({ ...who, activationUrl: "https://app.wrenn.test/activate?token=t1" }),
      /^Activate your Wrenn account$/,
      /expires in 24 hours/,
      "https://app.wrenn.test/activate?token=t1",
    ],
    ["password changed", passwordChangedEmail(who), /^Your Wrenn password was changed$/, /was changed\./, undefined],
    [
      "password added",
      passwordChangedEmail({ ...who, added: true }),
      /^A password was added/,
      /was added to your Wrenn account\./,
      undefined,
    ],
    [
      "reset link",
      passwordResetEmail({ ...who, resetUrl: "https://app.wrenn.test/reset?token=t2" }),
      /^Reset your Wrenn password$/,
      /expires in 15 minutes/,
      "https://app.wrenn.test/reset?token=t2",
    ],
    [
      "reset completed",
      passwordResetCompletedEmail(who),
      /^Your Wrenn password was reset$/,
      /reset with a reset link/,
      undefined,
    ],
    [
      "account deleted",
      accountDeletedEmail(who),
      /^Your Wrenn account was deleted$/,
      /removed for good in 15 days/,
      undefined,
    ],
    ["account purged", accountPurgedEmail(who), /^Your Wrenn data was removed$/, /removed for good\./, undefined],
    [
      "team created",
      teamCreatedEmail({ ...who, teamName: "Research", dashboardUrl }),
      /^Your team "Research" is ready$/,
      /are its owner/,
      dashboardUrl,
    ],
    [
      "added to team",
      addedToTeamEmail({ ...who, teamName: "Research", role: "admin", addedBy: "Grace", dashboardUrl }),
      /^You were added to the team "Research"$/,
      /Grace added you to the team "Research" as an admin\./,
      dashboardUrl,
    ],
  ];

  for (const [name, message, subject, body, link] of cases) {
    it(`${name}: renders with its subject, text and link`, () => {
      assert.equal(message.to, "ada@example.com");
      const mail = renderMail(message);
      assert.match(mail.subject, subject);
      assert.match(mail.text, /^Hello Ada,\n\n/);
      assert.match(mail.text, body);
      assert.equal(mail.buttonUrl, link);
    });
  }

  it("uses the given expiry and keeps hostile team names inert", () => {
    assert.match(
      activationEmail({ ...who, activationUrl: "https://a.test/", expiresInHours: 1 }).message,
      /expires in 1 hour\./,
    );
    assert.match(
      activationEmail({ ...who, activationUrl: "https://a.test/", expiresInMinutes: 30 }).message,
      /expires in 30 minutes\./,
    );
    assert.match(
      passwordResetEmail({ ...who, resetUrl: "https://a.test/", expiresInMinutes: 30 }).message,
      /30 minutes/,
    );
    const hostile = renderMail(
      addedToTeamEmail({ ...who, teamName: "<b>x</b>\r\nBcc: e@f.g", role: "member", addedBy: "M", dashboardUrl }),
    );
    assert.equal(hostile.subject, 'You were added to the team "<b>x</b> Bcc: e@f.g"');
    assert.ok(!hostile.html.includes("<b>x</b>"));
    assert.match(hostile.text, /as a member\./);
  });
});
