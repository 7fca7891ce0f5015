import type { FileHandle } from "node:fs/promises";
import type { ServerResponse } from "node:http";

/** Size of each of the two transfer buffers (2 MiB: ~20% less CPU per GiB than 1 MiB, see docs/decisions/0002). */
const CHUNK = 2 << 20;

interface Slot {
  readonly buf: Buffer;
  /** Settles when the last write from this buffer has left for the kernel (or the response closed). */
  written: Promise<void>;
}

/**
 * Streams bytes `start..end` (inclusive) of an open file into the response
 * with two reusable buffers: one is read into while the other is being
 * written. A read stream would allocate (and page-fault in) a fresh buffer
 * for every chunk — about 260 000 page faults per GiB — and leave the garbage
 * collector to return them, which costs throughput and raises envd's RSS
 * during big downloads. Back-pressure is inherent: a buffer is reused only
 * after its previous write completed. Returns early if the client goes away;
 * a file that shrinks mid-transfer ends the response abruptly (the declared
 * Content-Length cannot be met), never with wrong bytes.
 */
export async function sendFileRange(
  handle: FileHandle,
  start: number,
  end: number,
  res: ServerResponse,
): Promise<void> {
  const size = Math.max(1, Math.min(CHUNK, end - start + 1));
  const closed = new Promise<void>((resolve) => res.once("close", resolve));
  const slots: [Slot, Slot] = [
    { buf: Buffer.allocUnsafe(size), written: Promise.resolve() },
    { buf: Buffer.allocUnsafe(size), written: Promise.resolve() },
  ];
  let pos = start;
  for (let turn = 0; pos <= end; turn++) {
    const slot = slots[turn % 2] as Slot;
    await slot.written;
    if (res.destroyed) return;
    const { bytesRead } = await handle.read(slot.buf, 0, Math.min(size, end - pos + 1), pos);
    if (bytesRead === 0) {
      res.destroy();
      return;
    }
    pos += bytesRead;
    const chunk = bytesRead === slot.buf.length ? slot.buf : slot.buf.subarray(0, bytesRead);
    const write = new Promise<void>((resolve) => res.write(chunk, () => resolve()));
    slot.written = Promise.race([write, closed]);
  }
  await Promise.all(slots.map((s) => s.written));
  if (!res.destroyed) res.end();
}
