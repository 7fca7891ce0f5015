import type { FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import { deflateRaw } from "node:zlib";

const deflateRawAsync = promisify(deflateRaw);

/** Bytes read to judge a file; small enough to cost ~2 ms even when incompressible. */
const SAMPLE = 64 * 1024;
/** Below this size gzip is cheap whatever the content, so no sample is taken. */
const MIN_SIZE = 256 * 1024;

/**
 * Whether gzipping a file on the fly is worth it, judged by deflating its
 * first 64 KiB at the fastest level. fetch (and so the e2b SDK) asks for gzip
 * on every download, and zlib manages only ~20-30 MB/s on incompressible
 * data, against hundreds of MB/s for sending it as it is; the client accepts
 * identity anyway, so the server is free to choose it.
 */
export async function worthCompressing(handle: FileHandle, size: number): Promise<boolean> {
  if (size < MIN_SIZE) return true;
  const sample = Buffer.allocUnsafe(SAMPLE);
  const { bytesRead } = await handle.read(sample, 0, SAMPLE, 0);
  const packed = await deflateRawAsync(sample.subarray(0, bytesRead), { level: 1 });
  return packed.length < bytesRead * 0.9;
}
