import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type StreamInputRequest, StreamInputRequestSchema } from "@wrenn/protocol/envd/process";
import { useEnvd } from "../testing/test-envd.js";
import { assertCode, bytes, collect, processClient, StreamWatcher } from "./process-test-client.js";

const byPid = (pid: number) => ({ selector: { case: "pid" as const, value: pid } });
const stdin = (text: string) => ({ input: { case: "stdin" as const, value: bytes(text) } });

describe("Process input: SendInput, StreamInput, CloseStdin", { timeout: 20_000 }, () => {
  test("stdin is open by default: SendInput then CloseStdin gives EOF", async () => {
    await using t = await useEnvd();
    for (const binary of [false, true]) {
      const client = processClient(t.url, { binary });
      const w = new StreamWatcher(client.start({ process: { cmd: "cat" } }));
      const pid = await w.pid;
      await client.sendInput({ process: byPid(pid), input: stdin("one\n") });
      await w.waitFor(/one\n/);
      await client.sendInput({ process: byPid(pid), input: stdin("two\n") });
      await client.closeStdin({ process: byPid(pid) });
      await client.closeStdin({ process: byPid(pid) }).catch(() => {}); // idempotent or already gone
      const r = await w.result;
      assert.equal(r.stdout, "one\ntwo\n");
      assert.equal(r.end?.exitCode, 0);
    }
  });

  test("stdin: false gives the child an empty stdin and refuses input", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const eof = await collect(client.start({ process: { cmd: "cat" }, stdin: false }));
    assert.equal(eof.stdout, "");
    assert.equal(eof.end?.exitCode, 0, "cat saw EOF at once");

    const w = new StreamWatcher(client.start({ process: { cmd: "sleep", args: ["30"] }, stdin: false }));
    const pid = await w.pid;
    await assert.rejects(
      client.sendInput({ process: byPid(pid), input: stdin("x") }),
      assertCode(Code.FailedPrecondition, /stdin.*not enabled/),
    );
    await client.closeStdin({ process: byPid(pid) }); // nothing to close: not an error
    await client.sendSignal({ process: byPid(pid), signal: 9 });
    await w.result;
  });

  test("StreamInput: start selects the process, then data and keepalives", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url, { binary: true });
    const w = new StreamWatcher(client.start({ process: { cmd: "cat" }, tag: "streamed" }));
    await w.pid;
    async function* messages(): AsyncGenerator<StreamInputRequest> {
      yield create(StreamInputRequestSchema, {
        event: { case: "start", value: { process: { selector: { case: "tag", value: "streamed" } } } },
      });
      for (const part of ["a", "b", "c\n"]) {
        yield create(StreamInputRequestSchema, { event: { case: "data", value: { input: stdin(part) } } });
        yield create(StreamInputRequestSchema, { event: { case: "keepalive", value: {} } });
      }
    }
    await client.streamInput(messages());
    await w.waitFor(/abc\n/);
    await client.closeStdin({ process: { selector: { case: "tag", value: "streamed" } } });
    assert.equal((await w.result).stdout, "abc\n");
  });

  test("StreamInput must start with a start message", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    async function* dataFirst(): AsyncGenerator<StreamInputRequest> {
      yield create(StreamInputRequestSchema, { event: { case: "data", value: { input: stdin("x") } } });
    }
    await assert.rejects(client.streamInput(dataFirst()), assertCode(Code.FailedPrecondition, /first message/));
  });

  test("input errors: wrong kind, missing input", async () => {
    await using t = await useEnvd();
    const client = processClient(t.url);
    const w = new StreamWatcher(client.start({ process: { cmd: "cat" } }));
    const pid = await w.pid;
    await assert.rejects(
      client.sendInput({ process: byPid(pid), input: { input: { case: "pty", value: bytes("x") } } }),
      assertCode(Code.FailedPrecondition, /no PTY/),
    );
    await assert.rejects(
      client.sendInput({ process: byPid(pid) }),
      assertCode(Code.InvalidArgument, /input is required/),
    );
    await assert.rejects(
      client.update({ process: byPid(pid), pty: { size: { cols: 10, rows: 10 } } }),
      assertCode(Code.FailedPrecondition, /no PTY/),
    );
    await client.closeStdin({ process: byPid(pid) });
    await assert.rejects(
      client.sendInput({ process: byPid(pid), input: stdin("late") }),
      (err: unknown) => err instanceof ConnectError && [Code.FailedPrecondition, Code.NotFound].includes(err.code),
    );
    await w.result;
  });
});
