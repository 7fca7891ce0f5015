/** What registration reports about this machine (inventory §5.15 step 2). */
import { statfs } from "node:fs/promises";
import { arch, availableParallelism, totalmem } from "node:os";

/** The machine's shape, as `POST /v1/hosts/register` takes it. */
export interface HostFacts {
  /** Go's GOARCH names, as the reference sends them (`amd64`, `arm64`). */
  readonly arch: string;
  readonly cpu_cores: number;
  readonly memory_mb: number;
  /** Size of the filesystem holding `dir`, in GB (GiB, rounded down). */
  readonly disk_gb: number;
}

const GOARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };

/** Reads the facts; disk size is that of the filesystem of `dir` (the agent's state root). */
export async function readHostFacts(dir: string): Promise<HostFacts> {
  const fs = await statfs(dir);
  return {
    arch: GOARCH[arch()] ?? arch(),
    cpu_cores: availableParallelism(),
    memory_mb: Math.floor(totalmem() / 2 ** 20),
    disk_gb: Math.floor((fs.blocks * fs.bsize) / 2 ** 30),
  };
}
