/**
 * Turns a {@link MailMessage} into safe header values plus a text and an HTML
 * body. This is the single place where untrusted text (user names, team
 * names) meets mail syntax, so every defence lives here:
 * - header values lose CR, LF and other control characters (no header injection),
 * - everything in the HTML is escaped (no markup from user input),
 * - the button URL must be absolute http(s) (no `javascript:` or `data:` links).
 */
import { PlatformError } from "@wrenn/kit";
import type { MailMessage } from "./mailer.js";

/** A message ready for any transport. */
export interface RenderedMail {
  readonly to: string;
  readonly recipientName: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The validated button URL, if any (normalised by the URL parser). */
  readonly buttonUrl: string | undefined;
}

/** The closing used when a message sets none. */
export const DEFAULT_CLOSING = "Thanks,\nThe Wrenn team";
const FOOTER = "You are receiving this email because of an account on Wrenn.";

// Pragmatic, not RFC 5322: one address, no spaces, no angle brackets or quotes.
const ADDRESS_RE = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

function invalid(reason: string, message: string): PlatformError {
  return new PlatformError("invalid_argument", reason, message);
}

/** Replaces CR, LF, tabs and other control characters with spaces and trims: safe as a header value. */
export function toHeaderValue(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const control = code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
    out += control ? " " : ch;
  }
  return out.replace(/ {2,}/g, " ").trim();
}

/** True for a single plain mailbox address usable in a To or From header. */
export function isMailAddress(text: string): boolean {
  return text.length <= 254 && ADDRESS_RE.test(text);
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function checkButtonUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("MAIL_BUTTON_URL_INVALID", "the button link must be an absolute http(s) URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw invalid("MAIL_BUTTON_URL_INVALID", "the button link must be an absolute http(s) URL");
  }
  return parsed.href;
}

/** Paragraphs of the body: blank lines separate them, single newlines stay line breaks. */
function paragraphs(text: string): string[] {
  return text
    .replace(/\r\n?/g, "\n")
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function htmlParagraph(text: string, style: string): string {
  return `<p style="${style}">${text.split("\n").map(escapeHtml).join("<br>")}</p>`;
}

/**
 * Renders a message.
 * @throws PlatformError `invalid_argument` with reason `MAIL_RECIPIENT_INVALID`,
 * `MAIL_SUBJECT_EMPTY` or `MAIL_BUTTON_URL_INVALID`.
 */
export function renderMail(message: MailMessage): RenderedMail {
  const to = message.to.trim();
  if (!isMailAddress(to)) throw invalid("MAIL_RECIPIENT_INVALID", "the recipient is not a single valid email address");
  const subject = toHeaderValue(message.subject);
  if (subject.length === 0) throw invalid("MAIL_SUBJECT_EMPTY", "the subject is empty");
  const recipientName = toHeaderValue(message.recipientName);
  const buttonUrl = message.button ? checkButtonUrl(message.button.url) : undefined;
  const buttonText = message.button ? toHeaderValue(message.button.text) : "";

  const greeting = recipientName ? `Hello ${recipientName},` : "Hello,";
  const body = paragraphs(message.message);
  const closing = paragraphs(message.closing ?? DEFAULT_CLOSING);

  const text = [
    greeting,
    ...body,
    ...(buttonUrl ? [`${buttonText}: ${buttonUrl}`] : []),
    ...closing,
    "--",
    FOOTER,
  ].join("\n\n");

  const p = "margin:0 0 16px;font-size:15px;line-height:1.5;color:#1f2937";
  const html = [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif">',
    '<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px">',
    htmlParagraph(greeting, p),
    ...body.map((para) => htmlParagraph(para, p)),
    ...(buttonUrl
      ? [
          `<p style="margin:24px 0"><a href="${escapeHtml(buttonUrl)}" style="display:inline-block;padding:12px 20px;background:#111827;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${escapeHtml(buttonText)}</a></p>`,
          htmlParagraph(
            `If the button does not work, open this link:\n${buttonUrl}`,
            `${p};font-size:13px;color:#6b7280`,
          ),
        ]
      : []),
    ...closing.map((para) => htmlParagraph(para, p)),
    `<p style="margin:24px 0 0;font-size:12px;color:#9ca3af">${escapeHtml(FOOTER)}</p>`,
    "</div></body></html>",
    "",
  ].join("\n");

  return { to, recipientName, subject, text: `${text}\n`, html, buttonUrl };
}
