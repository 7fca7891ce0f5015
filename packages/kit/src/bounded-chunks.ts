/**
 * Re-cutting byte streams into bounded chunks for streaming RPCs and uploads.
 */

/**
 * Re-cuts a byte stream into chunks of at most `max` bytes, each but the last at least `min`,
 * copying only what it must: source buffers of `min` bytes or more go out as slices of
 * themselves; only runs of smaller pieces are joined (copied) into a new buffer. The source
 * must not reuse a buffer after yielding it (Node's sockets and HTTP bodies never do).
 */
export async function* boundedChunks(
  src: AsyncIterable<Uint8Array>,
  max: number,
  min: number,
): AsyncGenerator<Uint8Array> {
  if (!(min >= 1 && min <= max)) throw new RangeError(`boundedChunks: need 1 <= min <= max, got ${min}, ${max}`);
  let joined: Buffer | undefined;
  let fill = 0;
  for await (const chunk of src) {
    let rest = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (joined !== undefined) {
      // Top up the pending join first so bytes stay in order.
      const n = rest.copy(joined, fill, 0, Math.min(rest.length, max - fill));
      fill += n;
      rest = rest.subarray(n);
      if (fill < min) continue;
      yield joined.subarray(0, fill);
      joined = undefined;
      fill = 0;
    }
    while (rest.length >= min) {
      const n = Math.min(rest.length, max);
      yield rest.subarray(0, n);
      rest = rest.subarray(n);
    }
    if (rest.length > 0) {
      joined = Buffer.allocUnsafe(max);
      fill = rest.copy(joined);
    }
  }
  if (joined !== undefined) yield joined.subarray(0, fill);
}
