import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { PidFiles, processStartTime } from "./pid-files.js";

it("PidFiles kills recorded processes that still run, never a PID whose start time changed", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-pids-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pids = new PidFiles(dir);
  const live = spawn("sleep", ["60"], { stdio: "ignore" });
  const exited = once(live, "exit");
  const pid = live.pid ?? 0;
  await pids.record(pid, "sleeper");
  // A record whose PID is now someone else (this test process) must be left alone.
  await writeFile(
    join(dir, `${process.pid}.json`),
    JSON.stringify({ pid: process.pid, startTime: "1", label: "stale" }),
  );
  await writeFile(join(dir, "99999999.json"), "{torn");
  // A process that ended normally forgets its own record.
  const brief = spawn("sleep", ["0"], { stdio: "ignore" });
  const briefExit = once(brief, "exit"); // before any await: it may exit at once
  const forget = await pids.record(brief.pid ?? 0, "brief");
  await briefExit;
  await forget();

  const found = await pids.killLeftovers();
  assert.deepEqual(found.map((f) => [f.label, f.killed]).sort(), [
    ["sleeper", true],
    ["stale", false],
  ]);
  const [, signal] = await exited;
  assert.equal(signal, "SIGKILL");
  assert.equal(await processStartTime(pid), undefined);
  assert.ok((await processStartTime(process.pid)) !== undefined, "this process was not touched");
  assert.deepEqual(await readdir(dir), [], "every record removed");
});
