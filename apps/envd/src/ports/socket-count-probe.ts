import { ProcFileReader } from "./proc-file-reader.js";

/** Where the kernel prints the per-namespace socket counts. */
export const SOCKSTAT_FILES = { v4: "/proc/net/sockstat", v6: "/proc/net/sockstat6" } as const;

const TCP_INUSE = Buffer.from("\nTCP: inuse ");
const TCP6_INUSE = Buffer.from("TCP6: inuse ");

/**
 * The cheap half of port scanning: the number of TCP sockets in use in this
 * network namespace, IPv4 and IPv6, from /proc/net/sockstat{,6} (a few
 * microseconds; no hash walk). A new listener (listen() hashes the socket)
 * changes a count, so an unchanged pair means the full scan can be skipped,
 * with one exception the forwarder's periodic scan covers: a socket that
 * closes between the same two probes hides the new one. TIME_WAIT sockets
 * are not counted (the kernel keeps them apart), so closed connections do not
 * move the counts for a minute afterwards.
 */
export class SocketCountProbe {
  readonly #v4: ProcFileReader;
  readonly #v6: ProcFileReader;

  /** `files` replaces the /proc paths (tests). */
  constructor(files: { readonly v4: string; readonly v6: string } = SOCKSTAT_FILES) {
    this.#v4 = new ProcFileReader(files.v4, { initialBytes: 1024 });
    // A kernel without IPv6 has no sockstat6: its count stays 0.
    this.#v6 = new ProcFileReader(files.v6, { optional: true, initialBytes: 1024 });
  }

  /**
   * One number that changes when either count changes (v4 × 2^26 + v6,
   * exact below 2^26 sockets per family); undefined when the counts cannot be
   * read (no /proc/net/sockstat, an unexpected format), so callers scan
   * instead.
   */
  read(): number | undefined {
    try {
      const v4 = countAfter(this.#v4.readSync(), TCP_INUSE);
      const v6text = this.#v6.readSync();
      const v6 = v6text.length === 0 ? 0 : countAfter(v6text, TCP6_INUSE);
      if (v4 === undefined || v6 === undefined) return undefined;
      return v4 * 2 ** 26 + v6;
    } catch {
      return undefined;
    }
  }

  /** Closes both descriptors (a later read reopens them). */
  close(): void {
    this.#v4.close();
    this.#v6.close();
  }
}

/** The decimal number right after `marker` in `text`, parsed without making a string. */
export function countAfter(text: Buffer, marker: Buffer): number | undefined {
  const at = text.indexOf(marker);
  if (at < 0) return undefined;
  let i = at + marker.length;
  let value = 0;
  let digits = 0;
  for (; i < text.length; i++) {
    const c = text[i] ?? 0;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? undefined : value;
}
