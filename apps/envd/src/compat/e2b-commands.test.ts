import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CommandExitError, TimeoutError } from "e2b";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { sdkSandbox } from "./sdk-sandbox.js";

describe("e2b SDK: commands", { timeout: 60_000 }, () => {
  test("stdout, stderr and exit code of a foreground command", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const ok = await sbx.commands.run("echo out; echo err >&2");
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.stdout, "out\n");
    assert.equal(ok.stderr, "err\n");

    await assert.rejects(sbx.commands.run("echo partial; exit 3"), (err: unknown) => {
      assert.ok(err instanceof CommandExitError);
      assert.equal(err.exitCode, 3);
      assert.equal(err.stdout, "partial\n");
      return true;
    });
  });

  test("envs, cwd and user", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const env = await sbx.commands.run('printf "%s" "$GREETING"', { envs: { GREETING: "hi there" } });
    assert.equal(env.stdout, "hi there");

    const cwd = await sbx.commands.run("pwd", { cwd: t.dir });
    assert.equal(cwd.stdout.trim(), t.dir);

    const asUser = await sbx.commands.run("id -u; echo $HOME", { user: "user" });
    assert.deepEqual(asUser.stdout.trim().split("\n"), [String(TEST_USER_UID), t.userHome]);
    const asRoot = await sbx.commands.run("id -u", { user: "root" });
    assert.equal(asRoot.stdout.trim(), "0");

    await assert.rejects(sbx.commands.run("true", { user: "no-such-user" }));
    await assert.rejects(sbx.commands.run("true", { cwd: `${t.dir}/does-not-exist` }));
  });

  test("the default user and workdir set by /init apply when the SDK names no user", async () => {
    await using t = await useEnvd();
    const res = await fetch(`${t.url}/init`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ defaultUser: "user", defaultWorkdir: t.userHome, envVars: { FROM_INIT: "yes" } }),
    });
    assert.equal(res.status, 204);
    const sbx = await sdkSandbox(t);
    const r = await sbx.commands.run('id -u; pwd; echo "$FROM_INIT"');
    assert.deepEqual(r.stdout.trim().split("\n"), [String(TEST_USER_UID), t.userHome, "yes"]);
    await sbx.files.write("by-default.txt", "x");
    const st = await stat(join(t.userHome, "by-default.txt"));
    assert.equal(st.uid, TEST_USER_UID);
  });

  test("a command past its timeout is stopped and the SDK raises TimeoutError", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const started = Date.now();
    await assert.rejects(sbx.commands.run(`sleep 30; touch ${t.dir}/late`, { timeoutMs: 700 }), TimeoutError);
    assert.ok(Date.now() - started < 10_000);
    const procs = await sbx.commands.list();
    assert.equal(
      procs.filter((p) => p.args.join(" ").includes("sleep 30")).length,
      0,
      "the timed-out process was killed",
    );
  });

  test("background command: list, connect, stdin, kill", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const seen: string[] = [];
    const handle = await sbx.commands.run("cat", { background: true, stdin: true, onStdout: (d) => void seen.push(d) });
    assert.ok(handle.pid > 0);

    const listed = await sbx.commands.list();
    const mine = listed.find((p) => p.pid === handle.pid);
    assert.ok(mine, "the background process is listed");
    assert.equal(mine.cmd, "/bin/bash");

    await sbx.commands.sendStdin(handle.pid, "first line\n");
    await waitFor(() => seen.join("").includes("first line"));

    // A second client attaches to the same process and sees new output.
    const attached: string[] = [];
    const second = await sbx.commands.connect(handle.pid, { onStdout: (d) => void attached.push(d) });
    await handle.sendStdin("second line\n");
    await waitFor(() => attached.join("").includes("second line") && seen.join("").includes("second line"));

    assert.equal(await sbx.commands.kill(handle.pid), true);
    await assert.rejects(second.wait(), CommandExitError);
    await assert.rejects(handle.wait(), CommandExitError);
    assert.equal(await sbx.commands.kill(handle.pid), false, "killing a gone process reports false");
  });

  test("closeStdin ends a reader with EOF", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const handle = await sbx.commands.run("wc -c", { background: true, stdin: true });
    await handle.sendStdin("12345");
    await handle.closeStdin();
    const result = await handle.wait();
    assert.equal(result.stdout.trim(), "5");
  });

  test("disconnecting leaves the command running; it can be reattached", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const handle = await sbx.commands.run("sleep 0.5; echo done", { background: true, timeoutMs: 0 });
    await handle.disconnect();
    const again = await sbx.commands.connect(handle.pid);
    const result = await again.wait();
    assert.equal(result.stdout, "done\n");
  });

  test("many short commands each end with a result", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sbx.commands.run(`echo ${i}`)));
    assert.deepEqual(
      results.map((r) => r.stdout),
      Array.from({ length: 20 }, (_, i) => `${i}\n`),
    );
  });
});
