import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLogger } from "@wrenn/kit";
import { type Envd, startEnvd } from "../server.js";
import { ENVD_VERSION } from "../version.js";

/** A running in-process envd on a free loopback port, plus a scratch directory. */
export interface TestEnvd extends AsyncDisposable {
  readonly envd: Envd;
  readonly url: string;
  readonly log: MemoryLogger;
  /** Fresh temporary directory, removed on dispose. */
  readonly dir: string;
}

/**
 * Starts envd for a test (`await using t = await useEnvd()`): port 0 on
 * 127.0.0.1, default user root, run dir inside the scratch directory.
 * Disposal kills every process envd started and closes every connection.
 * @internal
 */
export async function useEnvd(opts: { defaultUser?: string; forwardAddress?: string } = {}): Promise<TestEnvd> {
  const dir = await mkdtemp(join(tmpdir(), "envd-test-"));
  const log = new MemoryLogger();
  const envd = await startEnvd({
    port: 0,
    host: "127.0.0.1",
    version: ENVD_VERSION,
    runDir: join(dir, "run"),
    defaultUser: opts.defaultUser ?? "root",
    etcDir: "/etc",
    forwardAddress: opts.forwardAddress,
    log,
  });
  return {
    envd,
    url: envd.url,
    log,
    dir,
    async [Symbol.asyncDispose]() {
      await envd[Symbol.asyncDispose]();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
