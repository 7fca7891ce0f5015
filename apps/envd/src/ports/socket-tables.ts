import { ProcFileReader } from "./proc-file-reader.js";
import { parseProcNetTcp, type TcpSocketEntry, TcpState } from "./proc-net-tcp.js";

/** The kernel's TCP socket tables of this network namespace. */
export const TCP_TABLE_FILES = { v4: "/proc/net/tcp", v6: "/proc/net/tcp6" } as const;

/** One read of both tables. */
export interface SocketSnapshot {
  /** Rows of both tables (reused between reads while the text is unchanged: do not mutate). */
  readonly sockets: readonly TcpSocketEntry[];
  /** False when the LISTEN rows (address, port, inode) are the same as at the previous read. */
  readonly listenersChanged: boolean;
}

/** One table: its reader and the last text with its parsed rows. */
class Table {
  readonly reader: ProcFileReader;
  #text: Buffer = Buffer.alloc(0);
  #rows: TcpSocketEntry[] = [];

  constructor(path: string, optional: boolean) {
    this.reader = new ProcFileReader(path, { optional, initialBytes: 64 * 1024 });
  }

  /** Rows of the current content; parsed only when the bytes differ from the last read. */
  async rows(): Promise<TcpSocketEntry[]> {
    const text = await this.reader.read();
    if (!text.equals(this.#text)) {
      this.#text = Buffer.from(text); // the reader's buffer is reused by the next read
      this.#rows = parseProcNetTcp(text.toString("latin1"));
    }
    return this.#rows;
  }
}

/**
 * Reads /proc/net/tcp and /proc/net/tcp6 for the port forwarder: one read
 * per table into reused buffers (see ProcFileReader), parsing skipped when a
 * table's text is unchanged, and a cheap answer to "did the set of listeners
 * change?", which drives the forwarder's back-off.
 */
export class SocketTables {
  readonly #v4: Table;
  readonly #v6: Table;
  #listenerKey = "";

  /** `files` replaces the /proc paths (tests). A missing tcp6 (no IPv6) reads as empty. */
  constructor(files: { readonly v4: string; readonly v6: string } = TCP_TABLE_FILES) {
    this.#v4 = new Table(files.v4, false);
    this.#v6 = new Table(files.v6, true);
  }

  /** Reads both tables (one after the other: each read is a walk of the same kernel hash). */
  async read(): Promise<SocketSnapshot> {
    const v4 = await this.#v4.rows();
    const v6 = await this.#v6.rows();
    const sockets = v6.length === 0 ? v4 : v4.length === 0 ? v6 : [...v4, ...v6];
    const key = listenerKey(sockets);
    const listenersChanged = key !== this.#listenerKey;
    this.#listenerKey = key;
    return { sockets, listenersChanged };
  }

  /** Closes both descriptors (a later read reopens them). */
  close(): void {
    this.#v4.reader.close();
    this.#v6.reader.close();
  }
}

/** A string that differs when the set of LISTEN sockets differs (rows come in the kernel's hash order). */
function listenerKey(sockets: readonly TcpSocketEntry[]): string {
  const keys: string[] = [];
  for (const s of sockets) {
    if (s.state === TcpState.Listen) keys.push(`${s.family} ${s.localAddress} ${s.localPort} ${s.inode}`);
  }
  return keys.sort().join("\n");
}
