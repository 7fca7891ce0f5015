import { closeSync, openSync, read, readSync } from "node:fs";

/** Largest content a reader accepts; a capsule with more has ~100k sockets in one table. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads one /proc file again and again through a descriptor kept open and a
 * buffer kept between reads, with a single positioned read from offset 0.
 *
 * Why: /proc/net/tcp is generated on every read by walking the kernel's
 * host-wide TCP hash (about 1 ms of system time even for an empty network
 * namespace), and `readFile` reads until it gets 0 bytes, so it pays that
 * walk twice per file. A /proc "seq file" returns everything that fits in one
 * read, so a read shorter than the buffer is the whole content; one that
 * fills it is retried with a buffer twice the size.
 *
 * The returned Buffer is a view of the internal buffer, valid until the next
 * read. A missing file (ENOENT: say no IPv6) reads as empty when `optional`.
 */
export class ProcFileReader {
  readonly #path: string;
  readonly #optional: boolean;
  #fd: number | undefined;
  #missing = false;
  #buffer: Buffer;

  /** `initialBytes` is the first buffer size (grown as needed). @default 16384 */
  constructor(path: string, opts: { readonly optional?: boolean; readonly initialBytes?: number } = {}) {
    this.#path = path;
    this.#optional = opts.optional ?? false;
    this.#buffer = Buffer.allocUnsafe(opts.initialBytes ?? 16384);
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /** Whole content, read on the calling thread (for small files such as /proc/net/sockstat). */
  readSync(): Buffer {
    const fd = this.#open();
    if (fd === undefined) return this.#buffer.subarray(0, 0);
    for (;;) {
      const n = readSync(fd, this.#buffer, 0, this.#buffer.length, 0);
      if (n < this.#buffer.length) return this.#buffer.subarray(0, n);
      this.#grow();
    }
  }

  /** Whole content, read on libuv's thread pool (one round trip when it fits). */
  async read(): Promise<Buffer> {
    const fd = this.#open();
    if (fd === undefined) return this.#buffer.subarray(0, 0);
    for (;;) {
      const buffer = this.#buffer;
      const n = await new Promise<number>((resolve, reject) => {
        read(fd, buffer, 0, buffer.length, 0, (err, bytes) => (err ? reject(err) : resolve(bytes)));
      });
      if (n < buffer.length) return buffer.subarray(0, n);
      this.#grow();
    }
  }

  /** Closes the descriptor; a later read opens the file again. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#missing = false;
  }

  #open(): number | undefined {
    if (this.#fd !== undefined) return this.#fd;
    if (this.#missing) return undefined;
    try {
      this.#fd = openSync(this.#path, "r");
      return this.#fd;
    } catch (err) {
      if (this.#optional && (err as NodeJS.ErrnoException).code === "ENOENT") {
        this.#missing = true;
        return undefined;
      }
      throw err;
    }
  }

  #grow(): void {
    if (this.#buffer.length * 2 > MAX_BYTES) {
      throw new Error(`${this.#path} is larger than ${MAX_BYTES} bytes`);
    }
    this.#buffer = Buffer.allocUnsafe(this.#buffer.length * 2);
  }
}
