/**
 * A {@link Mailer} for `./wrenn up` on a machine without an SMTP relay: each
 * message becomes one JSON line in `$WRENN_DIR/outbox.jsonl` (0600, since
 * activation and reset links are credentials), and `./wrenn` can print the
 * recent ones with {@link readOutbox} so a local user can still activate an
 * account or reset a password.
 */
import { chmod, mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PlatformError } from "@wrenn/kit";
import type { Mailer, MailMessage } from "./mailer.js";
import { renderMail } from "./render.js";

/** The outbox file name under `$WRENN_DIR`. */
export const OUTBOX_FILE_NAME = "outbox.jsonl";

/** One line of the outbox. */
export interface OutboxEntry {
  /** ISO 8601 time the message was written. */
  readonly at: string;
  readonly to: string;
  readonly recipientName: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The button link, if the message had one (the activation or reset link, for instance). */
  readonly buttonUrl?: string;
}

/** Options of {@link OutboxMailer}. */
export interface OutboxMailerOptions {
  /** The outbox file, normally `join(wrennDir, OUTBOX_FILE_NAME)`. Its directory is created (0700) if missing. */
  readonly path: string;
  /** Clock for `at`. @default Date.now */
  readonly now?: () => number;
}

/** Appends every message to a JSON-lines file instead of sending it. */
export class OutboxMailer implements Mailer {
  readonly #path: string;
  readonly #now: () => number;
  /** Appends run one after another so concurrent sends never interleave bytes. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: OutboxMailerOptions) {
    this.#path = options.path;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Renders and appends the message.
   * @throws PlatformError `invalid_argument` (see `renderMail`), `canceled` when
   * `signal` is already aborted, `unavailable` / `MAIL_OUTBOX_WRITE_FAILED` on I/O errors.
   */
  async send(message: MailMessage, signal: AbortSignal): Promise<void> {
    const mail = renderMail(message);
    if (signal.aborted) throw PlatformError.from(signal.reason);
    const entry: OutboxEntry = {
      at: new Date(this.#now()).toISOString(),
      to: mail.to,
      recipientName: mail.recipientName,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      ...(mail.buttonUrl ? { buttonUrl: mail.buttonUrl } : {}),
    };
    const write = this.#tail.then(() => this.#append(`${JSON.stringify(entry)}\n`));
    this.#tail = write.catch(() => {});
    await write;
  }

  async #append(line: string): Promise<void> {
    try {
      await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
      const file = await open(this.#path, "a", 0o600);
      try {
        // The mode above only applies on creation; an older, wider file is narrowed.
        if (((await file.stat()).mode & 0o077) !== 0) await chmod(this.#path, 0o600);
        await file.appendFile(line, "utf8");
      } finally {
        await file.close();
      }
    } catch (err) {
      throw new PlatformError("unavailable", "MAIL_OUTBOX_WRITE_FAILED", "writing the mail outbox failed", {
        cause: err,
      });
    }
  }
}

function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return ["at", "to", "recipientName", "subject", "text", "html"].every((k) => typeof v[k] === "string");
}

/**
 * The last `limit` entries of an outbox, oldest first, optionally only those
 * sent to `to` (case-insensitive). A missing file is an empty outbox; lines that
 * are not complete entries (a write cut short by a crash) are skipped.
 */
export async function readOutbox(
  path: string,
  options: { readonly limit?: number; readonly to?: string } = {},
): Promise<OutboxEntry[]> {
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const wanted = options.to?.toLowerCase();
  const entries: OutboxEntry[] = [];
  for (const line of content.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isOutboxEntry(parsed) && (wanted === undefined || parsed.to.toLowerCase() === wanted)) entries.push(parsed);
  }
  const limit = options.limit ?? 20;
  return limit <= 0 ? [] : entries.slice(-limit);
}

/** A plain-text rendering of an entry for a terminal: headers, then the text body. */
export function formatOutboxEntry(entry: OutboxEntry): string {
  return [
    `Date:    ${entry.at}`,
    `To:      ${entry.to}`,
    `Subject: ${entry.subject}`,
    "",
    entry.text.trimEnd(),
    "",
  ].join("\n");
}
