import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Signal } from "@wrenn/protocol/envd/process";
import { KEEPALIVE_HEADER } from "../rpc/keepalive.js";
import { useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { assertCode, bytes, collect, processClient, StreamWatcher } from "./process-test-client.js";

describe("Process: List, Connect, SendSignal, keepalive, deadlines", { timeout: 20_000 }, () => {
  test("List shows running processes with config and tag until they end", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const watcher = new StreamWatcher(
      client.start({
        process: { cmd: "cat", args: [], envs: { A: "1" }, cwd: t.dir },
        tag: "my-tag",
      }),
    );
    const pid = await watcher.pid;
    const listed = (await client.list({})).processes;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.pid, pid);
    assert.equal(listed[0]?.tag, "my-tag");
    assert.equal(listed[0]?.config?.cmd, "cat");
    assert.deepEqual(listed[0]?.config?.envs, { A: "1" });
    assert.equal(listed[0]?.config?.cwd, t.dir);
    await client.closeStdin({ process: { selector: { case: "pid", value: pid } } });
    assert.equal((await watcher.result).end?.exitCode, 0);
    assert.deepEqual((await client.list({})).processes, []);
  });

  test("several Connect streams by pid and tag all get the live output and the end", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const json = processClient(t.url, { binary: false });
    const binary = processClient(t.url, { binary: true });
    const origin = new StreamWatcher(client.start({ process: { cmd: "cat" }, tag: "shared" }));
    const pid = await origin.pid;
    const byTag = new StreamWatcher(json.connect({ process: { selector: { case: "tag", value: "shared" } } }));
    const byPid = new StreamWatcher(binary.connect({ process: { selector: { case: "pid", value: pid } } }));
    assert.equal(await byTag.pid, pid, "Connect starts with a synthetic start event");
    assert.equal(await byPid.pid, pid);
    await client.sendInput({
      process: { selector: { case: "pid", value: pid } },
      input: { input: { case: "stdin", value: bytes("hello\n") } },
    });
    await client.closeStdin({ process: { selector: { case: "tag", value: "shared" } } });
    for (const w of [origin, byTag, byPid]) {
      const r = await w.result;
      assert.equal(r.stdout, "hello\n");
      assert.equal(r.end?.exitCode, 0);
    }
  });

  test("selector errors: unknown pid or tag is NotFound, empty is InvalidArgument", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    await assert.rejects(
      collect(client.connect({ process: { selector: { case: "pid", value: 999_999_999 } } })),
      assertCode(Code.NotFound, /pid 999999999 not found/),
    );
    await assert.rejects(
      client.sendSignal({ process: { selector: { case: "tag", value: "nope" } }, signal: Signal.SIGKILL }),
      assertCode(Code.NotFound, /tag 'nope' not found/),
    );
    await assert.rejects(client.closeStdin({}), assertCode(Code.InvalidArgument, /selector/));
    await assert.rejects(
      client.closeStdin({ process: { selector: { case: "tag", value: "" } } }),
      assertCode(Code.InvalidArgument),
    );
  });

  test("SendSignal ends the process with Go's signal status; UNSPECIFIED is rejected", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    for (const [signal, status] of [
      [Signal.SIGTERM, "signal: terminated"],
      [Signal.SIGKILL, "signal: killed"],
    ] as const) {
      const w = new StreamWatcher(client.start({ process: { cmd: "sleep", args: ["30"] } }));
      const selector = { selector: { case: "pid" as const, value: await w.pid } };
      if (signal === Signal.SIGTERM) {
        await assert.rejects(
          client.sendSignal({ process: selector, signal: Signal.UNSPECIFIED }),
          assertCode(Code.InvalidArgument),
        );
      }
      await client.sendSignal({ process: selector, signal });
      const end = (await w.result).end;
      assert.equal(end?.exitCode, -1);
      assert.equal(end?.exited, false);
      assert.equal(end?.status, status);
      assert.equal(end?.error, status);
    }
  });

  test("keepalive events while silent when the client asks for them", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const [quiet, none] = await Promise.all([
      collect(client.start({ process: { cmd: "sleep", args: ["1.3"] } }, { headers: { [KEEPALIVE_HEADER]: "1" } })),
      collect(client.start({ process: { cmd: "sleep", args: ["1.3"] } })),
    ]);
    assert.equal(quiet.keepalives, 1);
    assert.deepEqual(quiet.order, ["start", "keepalive", "end"]);
    assert.equal(none.keepalives, 0, "without the header the interval is the 90 s default");
  });

  test("the Start deadline kills the process", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const marker = join(t.dir, "late");
    const script = `sleep 3; touch ${marker}`;
    // As the SDK does it (client and server clocks), and by header only (envd's own timer).
    const viaClient = new StreamWatcher(
      client.start({ process: { cmd: "sh", args: ["-c", script] } }, { timeoutMs: 400 }),
    );
    const viaHeader = new StreamWatcher(
      client.start({ process: { cmd: "sh", args: ["-c", script] } }, { headers: { "connect-timeout-ms": "400" } }),
    );
    await assert.rejects(viaClient.result, assertCode(Code.DeadlineExceeded));
    // envd's timer and connect's deadline race: either the kill's end event or the deadline error.
    const outcome = await viaHeader.result.then(
      (r) => r.end?.status,
      (err: unknown) => ConnectError.from(err).code,
    );
    assert.ok(outcome === "signal: killed" || outcome === Code.DeadlineExceeded, String(outcome));
    for (const w of [viaClient, viaHeader]) {
      const pid = await w.pid;
      await waitFor(() => t.envd.env.processes.byPid(pid) === undefined, 3000);
    }
    assert.deepEqual((await client.list({})).processes, []);
    assert.equal(existsSync(marker), false);
  });

  test("a disconnect leaves the process running and its output is drained meanwhile", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const marker = join(t.dir, "done");
    const abort = new AbortController();
    // 8 MiB of output nobody reads: it would block the child if envd stopped draining.
    const script = `head -c 8388608 /dev/zero; touch ${marker}; exec cat`;
    const w = new StreamWatcher(
      client.start({ process: { cmd: "sh", args: ["-c", script] } }, { signal: abort.signal }),
    );
    const pid = await w.pid;
    abort.abort();
    await assert.rejects(w.result);
    await waitFor(() => existsSync(marker), 5000);
    const again = new StreamWatcher(client.connect({ process: { selector: { case: "pid", value: pid } } }));
    assert.equal(await again.pid, pid, "still running after the disconnect");
    await client.sendInput({
      process: { selector: { case: "pid", value: pid } },
      input: { input: { case: "stdin", value: bytes("after\n") } },
    });
    await again.waitFor(/after/);
    await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: Signal.SIGKILL });
    assert.equal((await again.result).end?.status, "signal: killed");
  });
});
