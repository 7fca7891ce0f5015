/**
 * Random names the control plane makes up for things users did not name:
 * team slugs, PTY and background-process tags, default snapshot names.
 * All come from the CSPRNG: tags double as handles a client can reconnect
 * to, so they must not be guessable from one another.
 */
import { randomBytes } from "node:crypto";

/** The byte source; tests pass a fixed one to pin the output. Defaults to `crypto.randomBytes`. */
export type RandomBytes = (size: number) => Uint8Array;

function hex(bytes: number, random: RandomBytes): string {
  return Buffer.from(random(bytes)).toString("hex");
}

/** A team slug `xxxxxx-yyyyyy`: 6 random bytes as lowercase hex, split in two halves. */
export function newTeamSlug(random: RandomBytes = randomBytes): string {
  const h = hex(6, random);
  return `${h.slice(0, 6)}-${h.slice(6)}`;
}

/** A PTY session tag: `pty-` + 8 lowercase hex characters. */
export function newPtyTag(random: RandomBytes = randomBytes): string {
  return `pty-${hex(4, random)}`;
}

/** The default tag of a background process: `proc-` + 8 lowercase hex characters. */
export function newProcessTag(random: RandomBytes = randomBytes): string {
  return `proc-${hex(4, random)}`;
}

/** The default name of a snapshot taken without one: `template-` + 8 lowercase hex characters. */
export function newSnapshotName(random: RandomBytes = randomBytes): string {
  return `template-${hex(4, random)}`;
}

/** Matches {@link newTeamSlug} output. */
export const TEAM_SLUG_RE = /^[0-9a-f]{6}-[0-9a-f]{6}$/;
