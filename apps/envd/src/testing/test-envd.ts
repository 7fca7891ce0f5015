import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLogger } from "@wrenn/kit";
import type { ScanPacing } from "../ports/scan-pacer.js";
import { type Envd, startEnvd } from "../server.js";
import { ENVD_VERSION } from "../version.js";

/** uid/gid of the unprivileged `user` account in the test account database. */
export const TEST_USER_UID = 23456;

/** A running in-process envd on a free loopback port, plus a scratch directory. */
export interface TestEnvd extends AsyncDisposable {
  readonly envd: Envd;
  readonly url: string;
  readonly log: MemoryLogger;
  /** Fresh temporary directory, removed on dispose. */
  readonly dir: string;
  /** Home directory of the test account `user` (uid TEST_USER_UID), inside `dir`. */
  readonly userHome: string;
}

/**
 * Starts envd for a test (`await using t = await useEnvd()`): port 0 on
 * 127.0.0.1, default user root, run dir inside the scratch directory, and
 * its own account database with `root` and an unprivileged `user` whose home
 * is inside the scratch directory (the host's /etc is never touched).
 * Disposal kills every process envd started and closes every connection.
 * @internal
 */
export async function useEnvd(
  opts: { defaultUser?: string; forwardAddress?: string; portScanPacing?: Partial<ScanPacing> } = {},
): Promise<TestEnvd> {
  const dir = await mkdtemp(join(tmpdir(), "envd-test-"));
  // mkdtemp makes the directory 0700; the test user must be able to reach its home.
  await chmod(dir, 0o755);
  const log = new MemoryLogger();
  const etcDir = join(dir, "etc");
  const userHome = join(dir, "home", "user");
  await mkdir(etcDir, { recursive: true });
  await mkdir(userHome, { recursive: true });
  await chown(userHome, TEST_USER_UID, TEST_USER_UID);
  await writeFile(
    join(etcDir, "passwd"),
    `root:x:0:0:root:/root:/bin/bash\nuser:x:${TEST_USER_UID}:${TEST_USER_UID}::${userHome}:/bin/bash\n`,
  );
  await writeFile(join(etcDir, "group"), `root:x:0:\nuser:x:${TEST_USER_UID}:\n`);
  const envd = await startEnvd({
    port: 0,
    host: "127.0.0.1",
    version: ENVD_VERSION,
    runDir: join(dir, "run"),
    defaultUser: opts.defaultUser ?? "root",
    etcDir,
    forwardAddress: opts.forwardAddress,
    portScanPacing: opts.portScanPacing,
    log,
  });
  return {
    envd,
    url: envd.url,
    log,
    dir,
    userHome,
    async [Symbol.asyncDispose]() {
      await envd[Symbol.asyncDispose]();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
