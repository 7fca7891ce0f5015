import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { wrapToCloseFds } from "./pty-process.js";
import { findExecutable, ptySize } from "./spawn-spec.js";

test("pty sizes: zero falls back, out of range is InvalidArgument", () => {
  assert.deepEqual(ptySize({ cols: 0, rows: 0 }, { cols: 80, rows: 24 }), { cols: 80, rows: 24 });
  assert.deepEqual(ptySize({ cols: 132, rows: 0 }, { cols: 80, rows: 24 }), { cols: 132, rows: 24 });
  for (const size of [
    { cols: 0, rows: 10 },
    { cols: 70_000, rows: 10 },
  ]) {
    assert.throws(
      () => ptySize(size),
      (err: unknown) => err instanceof ConnectError && err.code === Code.InvalidArgument,
    );
  }
});

test("findExecutable follows PATH like execvp and resolves relative paths against the cwd", async () => {
  const dir = await mkdtemp(join(tmpdir(), "find-exe-"));
  try {
    await writeFile(join(dir, "tool"), "#!/bin/sh\n");
    await chmod(join(dir, "tool"), 0o755);
    await writeFile(join(dir, "data"), "");
    assert.equal(await findExecutable("tool", `/nonexistent:${dir}`, "/"), join(dir, "tool"));
    assert.equal(await findExecutable("./tool", "", dir), join(dir, "tool"));
    assert.equal(await findExecutable("tool", ":/bin", dir), join(dir, "tool"), "an empty PATH entry is the cwd");
    await assert.rejects(findExecutable("data", dir, "/"), /'data' not found in PATH/);
    await assert.rejects(findExecutable(dir, "", "/"), /not found or not executable/);
    // Probed concurrently, but the first PATH entry that has it still wins.
    const later = join(dir, "later");
    await mkdir(later);
    await writeFile(join(later, "tool"), "#!/bin/sh\n");
    await chmod(join(later, "tool"), 0o755);
    assert.equal(await findExecutable("tool", `/nonexistent:${dir}:${later}`, "/"), join(dir, "tool"));
    assert.equal(await findExecutable("tool", `${later}:${dir}`, "/"), join(later, "tool"));
    // A directory of that name earlier in PATH is skipped, as execvp skips it.
    await mkdir(join(dir, "sub"));
    await mkdir(join(dir, "sub", "tool"));
    assert.equal(await findExecutable("tool", `${join(dir, "sub")}:${later}`, "/"), join(later, "tool"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the descriptor-closing wrapper execs the command with its own argv", () => {
  assert.deepEqual(wrapToCloseFds([18, 251], "/bin/bash", ["-i", "-l"]), [
    "--posix",
    "-c",
    'exec 18>&- 251>&-; exec "$0" "$@"',
    "/bin/bash",
    "-i",
    "-l",
  ]);
});
