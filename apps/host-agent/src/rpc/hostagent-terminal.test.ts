import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type { PtyAttachResponse } from "@wrenn/protocol/hostagent/v1";
import { envdSkip, until } from "../sandboxes/sandbox-test-helpers.js";
import { harness, rejectsWith } from "./rpc-test-helpers.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe("hostagent.v1 terminals, process reattach, deadlines and users", { skip: envdSkip }, () => {
  it("a PTY starts, takes input, resizes, reattaches and is killed", async () => {
    await using h = await harness();
    const c = h.client;
    const id = "rpc-pty";
    await c.createSandbox({ sandboxId: id });
    const stream = c
      .ptyAttach({ sandboxId: id, tag: "term", cmd: "/bin/sh", cols: 100, rows: 30 })
      [Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(first.value?.event.case, "started");
    let seen = "";
    const readUntil = async (it: AsyncIterator<PtyAttachResponse>, needle: string) => {
      while (!seen.includes(needle)) {
        const r = await it.next();
        if (r.done) throw new Error(`stream ended before ${needle}: ${seen}`);
        if (r.value.event.case === "output") seen += text(r.value.event.value.data);
      }
    };
    await c.ptyResize({ sandboxId: id, tag: "term", cols: 132, rows: 40 });
    await c.ptySendInput({ sandboxId: id, tag: "term", data: Buffer.from("stty size; echo MARK$((40+2))\n") });
    await readUntil(stream, "MARK42");
    assert.match(seen, /40 132/);

    // Reattach by tag: no `started`, live output only.
    seen = "";
    const again = c.ptyAttach({ sandboxId: id, tag: "term" })[Symbol.asyncIterator]();
    const pending = readUntil(again, "AGAIN7");
    await new Promise((r) => setTimeout(r, 200));
    await c.ptySendInput({ sandboxId: id, tag: "term", data: Buffer.from("echo AGAIN$((3+4))\n") });
    await pending;

    await c.ptyKill({ sandboxId: id, tag: "term" });
    let exited = false;
    for (let r = await stream.next(); !r.done; r = await stream.next())
      if (r.value.event.case === "exited") exited = true;
    assert.ok(exited, "no exited event after PtyKill");
    await again.return?.();
    await c.destroySandbox({ sandboxId: id });
  });

  it("ConnectProcess follows a background process to its end", async () => {
    await using h = await harness();
    const c = h.client;
    const id = "rpc-conn";
    await c.createSandbox({ sandboxId: id });
    const bg = await c.startBackground({
      sandboxId: id,
      cmd: "/bin/sh",
      args: ["-c", "sleep 0.5; echo late; exit 4"],
      tag: "mine",
    });
    assert.equal(bg.tag, "mine");
    let out = "";
    let code = -1;
    for await (const e of c.connectProcess({ sandboxId: id, selector: { case: "pid", value: bg.pid } })) {
      if (e.event.case === "data" && e.event.value.output.case === "stdout") out += text(e.event.value.output.value);
      if (e.event.case === "end") code = e.event.value.exitCode;
    }
    assert.deepEqual([out, code], ["late\n", 4]);
    await c.destroySandbox({ sandboxId: id });
  });

  it("Exec honours its deadline and runs as another user", async () => {
    await using h = await harness();
    const c = h.client;
    const id = "rpc-exec";
    await c.createSandbox({ sandboxId: id });
    const started = Date.now();
    await assert.rejects(c.exec({ sandboxId: id, cmd: "/bin/sleep", args: ["5"], timeoutSec: 1 }), (e: unknown) => {
      assert.equal(ConnectError.from(e).code, Code.DeadlineExceeded);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
    const gone = async () => !(await c.listProcesses({ sandboxId: id })).processes.some((p) => p.cmd === "/bin/sleep");
    assert.ok(await until(gone, 3000), "the timed-out process was left running");
    if (process.getuid?.() === 0) {
      // nobody's home (/nonexistent) does not exist, so give a working directory.
      const r = await c.exec({ sandboxId: id, cmd: "/usr/bin/id", args: ["-un"], user: "nobody", cwd: "/" });
      assert.equal(text(r.stdout), "nobody\n");
    }
    await rejectsWith(c.exec({ sandboxId: id, cmd: "/bin/true", user: "bad user" }), Code.InvalidArgument, "bad user");
    // An error answered by envd reaches the caller with its code and message; envd's own
    // response headers once leaked into ours and corrupted the HTTP response.
    await rejectsWith(
      c.exec({ sandboxId: id, cmd: "/bin/true", cwd: "/no/such/dir" }),
      Code.InvalidArgument,
      "does not exist",
    );

    // The 500 ms sampler fills the history; wait for its first completed point.
    const sampled = await until(
      async () => (await c.getSandboxMetrics({ sandboxId: id, range: "5m" })).points.length >= 1,
      5000,
    );
    assert.ok(sampled, "no metric points within 5 s of sampling");
    const got = await c.getSandboxMetrics({ sandboxId: id, range: "5m" });
    assert.ok((got.points[0]?.memBytes ?? 0n) > 0n);
    const flushed = await c.flushSandboxMetrics({ sandboxId: id });
    assert.ok(flushed.points10m.length >= 1 && flushed.points24h.length >= 1);
    assert.ok((await c.getSandboxMetrics({ sandboxId: id, range: "5m" })).points.length <= 1, "flush did not clear");
    await c.destroySandbox({ sandboxId: id });
  });
});
