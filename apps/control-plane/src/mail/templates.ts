/**
 * The transactional emails, one function each. They only compose text: links
 * are built by the caller (from `OAUTH_REDIRECT_URL`, the frontend base) and
 * checked when rendering, and names are escaped by the renderer, so any user
 * text can be passed as is.
 */
import type { MailMessage } from "./mailer.js";

/** Who a mail goes to. */
export interface Recipient {
  /** Email address. */
  readonly to: string;
  /** Display name; may be empty. */
  readonly name: string;
}

/**
 * After signup: the link that activates the account. The expiry is stated in
 * minutes when `expiresInMinutes` is given (it wins over `expiresInHours`).
 */
export function activationEmail(
  input: Recipient & {
    readonly activationUrl: string;
    readonly expiresInHours?: number;
    readonly expiresInMinutes?: number;
  },
): MailMessage {
  const hours = input.expiresInHours ?? 24;
  const minutes = input.expiresInMinutes;
  const expiry =
    minutes === undefined
      ? `${hours} ${hours === 1 ? "hour" : "hours"}`
      : `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  return {
    to: input.to,
    recipientName: input.name,
    subject: "Activate your Wrenn account",
    message: `Welcome to Wrenn! Confirm your email address to activate your account.\n\nThe link expires in ${expiry}. If you did not sign up, ignore this email.`,
    button: { text: "Activate account", url: input.activationUrl },
  };
}

/** After a password change, or after a password was added to an account that had none (GitHub sign-in only). */
export function passwordChangedEmail(input: Recipient & { readonly added?: boolean }): MailMessage {
  const what = input.added
    ? "A password was added to your Wrenn account"
    : "The password of your Wrenn account was changed";
  return {
    to: input.to,
    recipientName: input.name,
    subject: input.added ? "A password was added to your Wrenn account" : "Your Wrenn password was changed",
    message: `${what}.\n\nIf this was you, there is nothing to do. If it was not, reset your password right away and review your API keys.`,
  };
}

/** The password reset link requested on the login page. */
export function passwordResetEmail(
  input: Recipient & { readonly resetUrl: string; readonly expiresInMinutes?: number },
): MailMessage {
  const minutes = input.expiresInMinutes ?? 15;
  return {
    to: input.to,
    recipientName: input.name,
    subject: "Reset your Wrenn password",
    message: `Someone asked to reset the password of your Wrenn account. Choose a new password with the link below; it works once and expires in ${minutes} minutes.\n\nIf you did not ask for this, ignore this email: your password stays as it is.`,
    button: { text: "Reset password", url: input.resetUrl },
  };
}

/** After a reset link was used to set a new password. */
export function passwordResetCompletedEmail(input: Recipient): MailMessage {
  return {
    to: input.to,
    recipientName: input.name,
    subject: "Your Wrenn password was reset",
    message:
      "Your password was just reset with a reset link.\n\nIf this was not you, someone has access to your email: secure it, then reset your Wrenn password again.",
  };
}

/** After the user deleted their account (soft delete; data is purged later). */
export function accountDeletedEmail(input: Recipient & { readonly purgeAfterDays?: number }): MailMessage {
  const days = input.purgeAfterDays ?? 15;
  return {
    to: input.to,
    recipientName: input.name,
    subject: "Your Wrenn account was deleted",
    message: `Your Wrenn account was deleted, together with its API keys and the teams only you belonged to.\n\nYour remaining data is removed for good in ${days} days.`,
    closing: "Sorry to see you go,\nThe Wrenn team",
  };
}

/** After the purge that follows an account deletion. */
export function accountPurgedEmail(input: Recipient): MailMessage {
  return {
    to: input.to,
    recipientName: input.name,
    subject: "Your Wrenn data was removed",
    message:
      "The data of your deleted Wrenn account has now been removed for good. Audit records keep no personal details.",
    closing: "Goodbye,\nThe Wrenn team",
  };
}

/** After the user created a team (they are its owner). */
export function teamCreatedEmail(
  input: Recipient & { readonly teamName: string; readonly dashboardUrl: string },
): MailMessage {
  return {
    to: input.to,
    recipientName: input.name,
    subject: `Your team "${input.teamName}" is ready`,
    message: `You created the team "${input.teamName}" and are its owner.\n\nInvite members, create API keys and start capsules from the dashboard.`,
    button: { text: "Open the dashboard", url: input.dashboardUrl },
  };
}

/** After someone added the user to a team. */
export function addedToTeamEmail(
  input: Recipient & {
    readonly teamName: string;
    readonly role: "admin" | "member";
    readonly addedBy: string;
    readonly dashboardUrl: string;
  },
): MailMessage {
  return {
    to: input.to,
    recipientName: input.name,
    subject: `You were added to the team "${input.teamName}"`,
    message: `${input.addedBy} added you to the team "${input.teamName}" as ${input.role === "admin" ? "an admin" : "a member"}.\n\nSwitch to it from the team menu of the dashboard.`,
    button: { text: "Open the dashboard", url: input.dashboardUrl },
  };
}
