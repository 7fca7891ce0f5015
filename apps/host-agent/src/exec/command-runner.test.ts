import assert from "node:assert/strict";
import { test } from "node:test";
import { CommandError, ExecFileRunner, runChecked } from "./command-runner.js";

test("runs argv without a shell, passes stdin, reports exit codes", async () => {
  const runner = new ExecFileRunner();
  const echo = await runner.run(["printf", "%s", "a b; $(not a shell)"]);
  assert.deepEqual(echo, { exitCode: 0, stdout: "a b; $(not a shell)", stderr: "" });
  assert.equal((await runner.run(["cat"], { stdin: "piped" })).stdout, "piped");
  assert.equal((await runner.run(["sh", "-c", "exit 3"])).exitCode, 3);
  await assert.rejects(runChecked(runner, ["false"]), CommandError);
  await assert.rejects(runner.run(["/nonexistent/binary"]), /ENOENT/);
});

test("a timeout or an abort rejects instead of reporting an exit code", async () => {
  const runner = new ExecFileRunner();
  await assert.rejects(runner.run(["sleep", "5"], { timeoutMs: 100 }));
  await assert.rejects(runner.run(["sleep", "5"], { signal: AbortSignal.timeout(100) }));
});
