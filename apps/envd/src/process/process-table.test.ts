import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { MemoryLogger } from "@wrenn/kit";
import { ProcessConfigSchema } from "@wrenn/protocol/envd/process";
import { useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { ProcessTable } from "./process-table.js";
import { prepareSpawn } from "./spawn-spec.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const root = { name: "root", uid: 0, gid: 0, home: "/", shell: "/bin/sh", groups: [0] };

async function startSleep(table: ProcessTable, tag?: string) {
  const spec = await prepareSpawn(
    root,
    { cmd: "sleep", args: ["30"], envs: {}, cwd: "/", pty: undefined, stdin: false },
    { envVars: new Map(), defaultWorkdir: undefined },
  );
  const started = await table.start({ spec, config: create(ProcessConfigSchema, { cmd: "sleep" }), tag });
  started.output.close();
  return started.process;
}

describe("ProcessTable", { timeout: 10_000 }, () => {
  test("dispose kills every child and waits for it", async () => {
    const table = new ProcessTable(new MemoryLogger());
    const procs = [await startSleep(table), await startSleep(table)];
    assert.ok(procs.every((p) => alive(p.pid)));
    await table[Symbol.asyncDispose]();
    for (const p of procs) {
      assert.equal((await p.ended).status, "signal: killed");
      assert.equal(alive(p.pid), false, "reaped, not a zombie");
    }
    await assert.rejects(startSleep(table), /shutting down/);
  });

  test("a tag selects the oldest running process with it; ended ones leave", async () => {
    await using table = new ProcessTable(new MemoryLogger());
    const first = await startSleep(table, "job");
    const second = await startSleep(table, "job");
    assert.equal(table.byTag("job"), first);
    first.signal("SIGKILL");
    assert.deepEqual(
      table.list().map((p) => p.pid),
      [second.pid],
      "a SIGKILLed process is no longer listed",
    );
    await first.ended;
    assert.equal(table.byTag("job"), second);
    assert.equal(table.byPid(first.pid), undefined);
  });

  test("children get oom_score_adj 100", async () => {
    await using table = new ProcessTable(new MemoryLogger());
    const proc = await startSleep(table);
    assert.equal(readFileSync(`/proc/${proc.pid}/oom_score_adj`, "latin1").trim(), "100");
  });

  test("startDetached runs the command as the default user with output discarded", async () => {
    await using t = await useEnvd();
    const table = t.envd.env.processes;
    const pid = await table.startDetached({ cmd: "yes", args: [], tag: "init-cmd", env: t.envd.env });
    const proc = table.byTag("init-cmd");
    assert.equal(proc?.pid, pid);
    // Nobody listens, so `yes` must write far more than any buffer could hold.
    const written = () => Number(/^wchar:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "latin1"))?.[1]);
    await waitFor(() => written() > 64 * 1024 * 1024, 8000);
  });
});
