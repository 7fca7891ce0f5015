import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { assertCode, collect, processClient } from "./process-test-client.js";
import { DEFAULT_PATH } from "./spawn-spec.js";

describe("Process.Start", { timeout: 20_000 }, () => {
  test("stdout, stderr and exit code, in JSON and binary", async () => {
    await using t = await useEnvd();
    for (const binary of [false, true]) {
      const client = processClient(t.url, { binary });
      const ok = await collect(client.start({ process: { cmd: "sh", args: ["-c", "echo out; echo err >&2"] } }));
      assert.equal(ok.stdout, "out\n");
      assert.equal(ok.stderr, "err\n");
      assert.equal(ok.order[0], "start");
      assert.equal(ok.order.at(-1), "end");
      assert.ok(ok.pid !== undefined && ok.pid > 0);
      assert.equal(ok.end?.exitCode, 0);
      assert.equal(ok.end?.exited, true);
      assert.equal(ok.end?.status, "exit status 0");
      assert.equal(ok.end?.error, undefined);

      const failed = await collect(client.start({ process: { cmd: "sh", args: ["-c", "echo partial; exit 3"] } }));
      assert.equal(failed.stdout, "partial\n");
      assert.equal(failed.end?.exitCode, 3);
      assert.equal(failed.end?.status, "exit status 3");
      assert.equal(failed.end?.error, "exit status 3");
    }
  });

  test("environment: user basics, /init env vars, then request envs", async () => {
    await using t = await useEnvd();
    t.envd.env.state.envVars.set("FROM_INIT", "init");
    t.envd.env.state.envVars.set("OVERRIDDEN", "init");
    const client = processClient(t.url, { user: "user" });
    const res = await collect(
      client.start({
        process: {
          cmd: "sh",
          args: ["-c", 'printf "%s|" "$HOME" "$USER" "$LOGNAME" "$PATH" "$FROM_INIT" "$OVERRIDDEN" "$EXTRA"'],
          envs: { OVERRIDDEN: "request", EXTRA: "x y" },
        },
      }),
    );
    assert.equal(res.stdout, `${t.userHome}|user|user|${DEFAULT_PATH}|init|request|x y|`);
    const leaked = await collect(client.start({ process: { cmd: "env" } }));
    assert.doesNotMatch(leaked.stdout, /NODE_|npm_/, "envd's own environment does not leak");
  });

  test("cwd: relative and ~ against home, default workdir, missing is InvalidArgument", async () => {
    await using t = await useEnvd();
    await mkdir(join(t.userHome, "sub"));
    const client = processClient(t.url, { user: "user" });
    const pwd = async (cwd?: string) => (await collect(client.start({ process: { cmd: "pwd", cwd } }))).stdout.trim();
    assert.equal(await pwd(), t.userHome);
    assert.equal(await pwd("sub"), join(t.userHome, "sub"));
    assert.equal(await pwd("~/sub"), join(t.userHome, "sub"));
    assert.equal(await pwd(t.dir), t.dir);
    t.envd.env.state.defaultWorkdir = t.dir;
    assert.equal(await pwd(), t.dir);
    await assert.rejects(pwd("nope"), assertCode(Code.InvalidArgument, /cwd '.*\/nope' does not exist/));
    await writeFile(join(t.dir, "file"), "");
    await assert.rejects(pwd(join(t.dir, "file")), assertCode(Code.InvalidArgument, /not a directory/));
  });

  test("runs as the request user; unknown users are Unauthenticated", async () => {
    await using t = await useEnvd();
    const id = async (user: string | undefined) =>
      (await collect(processClient(t.url, { user }).start({ process: { cmd: "id", args: ["-u"] } }))).stdout.trim();
    assert.equal(await id("user"), String(TEST_USER_UID));
    assert.equal(await id("root"), "0");
    assert.equal(await id(undefined), "0", "envd's default user");
    await assert.rejects(id("nobody-here"), assertCode(Code.Unauthenticated, /unknown user/));
  });

  test("bad commands fail the RPC with a clear error", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const start = (cmd: string, args: string[] = []) => collect(client.start({ process: { cmd, args } }));
    await assert.rejects(start("no-such-command-xyz"), assertCode(Code.NotFound, /'no-such-command-xyz' not found/));
    await assert.rejects(start("./missing"), assertCode(Code.NotFound, /'.\/missing'/));
    await assert.rejects(start(""), assertCode(Code.InvalidArgument, /cmd/));
    await assert.rejects(start("echo", ["a\0b"]), assertCode(Code.InvalidArgument, /NUL/));
    await assert.rejects(collect(client.start({})), assertCode(Code.InvalidArgument, /process is required/));
  });

  test("every short process ends with an end event (50 at once)", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url, { binary: true });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => collect(client.start({ process: { cmd: "echo", args: [String(i)] } }))),
    );
    results.forEach((r, i) => {
      assert.equal(r.stdout, `${i}\n`);
      assert.equal(r.end?.exitCode, 0);
    });
    assert.deepEqual((await client.list({})).processes, [], "ended processes leave the table");
  });

  test("a background grandchild holding stdout does not delay the end", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const started = Date.now();
    const res = await collect(client.start({ process: { cmd: "sh", args: ["-c", "sleep 30 & echo $!"] } }));
    const grandchild = Number(res.stdout.trim());
    process.kill(grandchild, "SIGKILL");
    assert.ok(grandchild > 0);
    assert.equal(res.end?.exitCode, 0);
    assert.ok(Date.now() - started < 2000, "ended long before the grandchild");

    // A grandchild that never stops writing is cut off a bounded amount after the exit.
    const chatty = await collect(client.start({ process: { cmd: "sh", args: ["-c", "yes & echo started"] } }));
    assert.equal(chatty.end?.exitCode, 0);
    assert.ok(chatty.stdout.startsWith("started\n") || chatty.stdout.includes("started\n"));
    assert.ok(chatty.stdout.length < 8 * 1024 * 1024, `${chatty.stdout.length} bytes after the exit`);
  });

  test("children do not inherit envd's descriptors, not even other PTY masters", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const shell = client.start({ process: { cmd: "sleep", args: ["30"] }, pty: { size: { cols: 80, rows: 24 } } });
    const it = shell[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value?.event?.event.case, "start");
    // Every fd above 2 (other than the shell's glob of /proc/self/fd) must be /dev/null or gone.
    const script = 'for f in /proc/self/fd/*; do n=$(basename "$f"); [ "$n" -gt 2 ] && readlink "$f"; done; true';
    const plain = await collect(client.start({ process: { cmd: "sh", args: ["-c", script] } }));
    const inPty = await collect(client.start({ process: { cmd: "sh", args: ["-c", script] }, pty: {} }));
    for (const listing of [plain.stdout, inPty.pty]) {
      const targets = listing.split(/\r?\n/).filter((l) => l !== "" && !l.startsWith("/proc/"));
      assert.deepEqual(
        targets.filter((l) => l !== "/dev/null"),
        [],
        `unexpected inherited descriptors: ${listing}`,
      );
    }
    await it.return?.();
  });
});
