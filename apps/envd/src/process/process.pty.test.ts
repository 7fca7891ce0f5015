import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { Signal } from "@wrenn/protocol/envd/process";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { assertCode, bytes, collect, processClient, StreamWatcher } from "./process-test-client.js";
import { supplementaryGroups } from "./pty-process.js";

const byTag = (tag: string) => ({ selector: { case: "tag" as const, value: tag } });
const pty = (text: string) => ({ input: { case: "pty" as const, value: bytes(text) } });

describe("Process with a PTY", { timeout: 20_000 }, () => {
  test("input, resize, reconnect by tag, Ctrl-D", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const shell = new StreamWatcher(
      client.start({
        process: { cmd: "sh", args: ["-i"], envs: { PS1: "$ " } },
        pty: { size: { cols: 80, rows: 24 } },
        tag: "term",
      }),
    );
    const pid = await shell.pid;
    await client.sendInput({ process: byTag("term"), input: pty("stty size\n") });
    await shell.waitFor(/24 80/, "pty");

    await client.update({ process: byTag("term"), pty: { size: { cols: 120, rows: 40 } } });
    await client.sendInput({ process: byTag("term"), input: pty("stty size\n") });
    await shell.waitFor(/40 120/, "pty");

    const again = new StreamWatcher(processClient(t.url, { binary: true }).connect({ process: byTag("term") }));
    assert.equal(await again.pid, pid);
    await client.sendInput({ process: byTag("term"), input: pty("echo marker-$((6*7))\n") });
    await again.waitFor(/marker-42/, "pty");
    await shell.waitFor(/marker-42/, "pty");

    await assert.rejects(client.closeStdin({ process: byTag("term") }), assertCode(Code.FailedPrecondition, /Ctrl-D/));
    await assert.rejects(
      client.sendInput({ process: byTag("term"), input: { input: { case: "stdin", value: bytes("x") } } }),
      assertCode(Code.FailedPrecondition, /has a PTY/),
    );
    await assert.rejects(
      client.update({ process: byTag("term"), pty: { size: { cols: 0, rows: 10 } } }),
      assertCode(Code.InvalidArgument, /pty size/),
    );

    await client.sendInput({ process: byTag("term"), input: pty("\x04") });
    for (const w of [shell, again]) {
      const r = await w.result;
      assert.equal(r.end?.exitCode, 0);
      assert.equal(r.stdout, "", "PTY output arrives as pty data only");
    }
  });

  test("SendSignal SIGKILL ends a PTY with the signal status", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const w = new StreamWatcher(client.start({ process: { cmd: "sleep", args: ["30"] }, pty: {} }));
    const pid = await w.pid;
    await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: Signal.SIGKILL });
    const end = (await w.result).end;
    assert.equal(end?.status, "signal: killed");
    assert.equal(end?.exitCode, -1);
  });

  test("runs as the user with the user's groups, not envd's, in the default size", async () => {
    await using t = await useEnvd();
    // Give envd (this process) supplementary groups a user must not inherit.
    const saved = supplementaryGroups();
    process.setgroups?.([0, 4242]);
    try {
      const client = processClient(t.url, { user: "user" });
      const script = "id -u; id -G; pwd; stty size";
      const r = await collect(client.start({ process: { cmd: "sh", args: ["-c", script] }, pty: {} }));
      assert.deepEqual(r.pty.trim().split(/\r?\n/), [
        String(TEST_USER_UID),
        String(TEST_USER_UID),
        t.userHome,
        "24 80",
      ]);
      assert.deepEqual(supplementaryGroups(), [0, 4242], "envd's groups are restored");
    } finally {
      process.setgroups?.(saved);
    }
  });

  test("output bytes are passed through unchanged", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url, { binary: true });
    const chunks: Uint8Array[] = [];
    for await (const res of client.start({ process: { cmd: "printf", args: ["\\377\\376ok"] }, pty: {} })) {
      const ev = res.event?.event;
      if (ev?.case === "data" && ev.value.output.case === "pty") chunks.push(ev.value.output.value);
    }
    assert.deepEqual([...Buffer.concat(chunks)], [0xff, 0xfe, 0x6f, 0x6b]);
  });
});
