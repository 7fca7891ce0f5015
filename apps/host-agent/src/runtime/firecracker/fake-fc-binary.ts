/**
 * Test support: writes stand-in `firecracker` executables (node scripts), since no real
 * binary can be installed here. `serving` runs fake-fc-main.ts (the schema-checking fake API);
 * `failing` prints a startup error and exits 1, as Firecracker does without /dev/kvm access.
 */
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Paths of the written executables. */
export interface FakeFirecrackerBinaries {
  readonly serving: string;
  readonly failing: string;
}

/** Writes both executables into `dir`. */
export async function writeFakeFirecrackerBinaries(dir: string): Promise<FakeFirecrackerBinaries> {
  const loader = import.meta.resolve("tsx");
  const main = new URL("./fake-fc-main.ts", import.meta.url).href;
  const serving = join(dir, "firecracker-fake.mjs");
  await writeFile(
    serving,
    `#!/usr/bin/env -S ${process.execPath} --import ${loader}\nimport ${JSON.stringify(main)};\n`,
  );
  const failing = join(dir, "firecracker-broken.mjs");
  await writeFile(
    failing,
    `#!${process.execPath}\nprocess.stderr.write("Error: /dev/kvm: Permission denied\\n");\nprocess.exit(1);\n`,
  );
  await chmod(serving, 0o755);
  await chmod(failing, 0o755);
  return { serving, failing };
}
