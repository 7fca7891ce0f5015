import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { envdSkip, until } from "../sandboxes/sandbox-test-helpers.js";
import { collect, harness, rejectsWith } from "./rpc-test-helpers.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe("hostagent.v1 service over a loopback manager", { skip: envdSkip }, () => {
  it("runs a capsule through its whole life", async (t) => {
    await using h = await harness();
    const c = h.client;
    const dir = await mkdtemp(join(tmpdir(), "wrenn-rpc-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const id = "rpc-life";

    const created = await c.createSandbox({ sandboxId: id, templateId: "tpl", vcpus: 1, memoryMb: 256 });
    assert.equal(created.status, "running");
    await rejectsWith(c.createSandbox({ sandboxId: id }), Code.AlreadyExists, "duplicate create");

    const list = await c.listSandboxes({});
    assert.deepEqual(
      list.sandboxes.map((s) => [s.sandboxId, s.status, s.templateId]),
      [[id, "running", "tpl"]],
    );
    assert.deepEqual(list.autoPausedSandboxIds, []);
    await c.pingSandbox({ sandboxId: id });

    const ex = await c.exec({
      sandboxId: id,
      cmd: "/bin/sh",
      args: ["-c", 'echo "$FOO"; pwd; echo oops >&2; exit 3'],
      envs: { FOO: "bar" },
      cwd: dir,
    });
    assert.deepEqual([text(ex.stdout), text(ex.stderr), ex.exitCode], [`bar\n${dir}\n`, "oops\n", 3]);

    const events = await collect(c.execStream({ sandboxId: id, cmd: "/bin/echo", args: ["streamed"] }));
    assert.equal(events[0]?.event.case, "start");
    const out = events.flatMap((e) =>
      e.event.case === "data" && e.event.value.output.case === "stdout" ? [text(e.event.value.output.value)] : [],
    );
    assert.equal(out.join(""), "streamed\n");
    const end = events.at(-1)?.event;
    assert.equal(end?.case === "end" ? end.value.exitCode : -1, 0);

    const bg = await c.startBackground({ sandboxId: id, cmd: "/bin/sleep", args: ["30"] });
    assert.match(bg.tag, /^proc-[0-9a-f]{8}$/);
    const procs = await c.listProcesses({ sandboxId: id });
    assert.ok(procs.processes.some((p) => p.pid === bg.pid && p.tag === bg.tag && p.cmd === "/bin/sleep"));
    await c.killProcess({ sandboxId: id, selector: { case: "tag", value: bg.tag }, signal: "SIGTERM" });
    assert.ok(
      await until(
        async () => !(await c.listProcesses({ sandboxId: id })).processes.some((p) => p.pid === bg.pid),
        3000,
      ),
      "killed process still listed",
    );

    const file = join(dir, "sub", "hello.txt");
    await c.writeFile({ sandboxId: id, path: file, content: Buffer.from("hi there") });
    assert.equal(await readFile(file, "utf8"), "hi there");
    assert.equal(text((await c.readFile({ sandboxId: id, path: file })).content), "hi there");
    await rejectsWith(c.readFile({ sandboxId: id, path: join(dir, "nope") }), Code.NotFound, "missing file");

    const made = await c.makeDir({ sandboxId: id, path: join(dir, "made") });
    assert.equal(made.entry?.type, "directory");
    const ls = await c.listDir({ sandboxId: id, path: dir, depth: 1 });
    const byName = new Map(ls.entries.map((e) => [e.name, e]));
    assert.equal(byName.get("sub")?.type, "directory");
    assert.equal(byName.get("made")?.path, join(dir, "made"));
    await c.removePath({ sandboxId: id, path: join(dir, "made") });
    assert.ok(!(await c.listDir({ sandboxId: id, path: dir })).entries.some((e) => e.name === "made"));

    const paused = await c.pauseSandbox({ sandboxId: id });
    assert.equal(paused.mode, "memory");
    await rejectsWith(c.exec({ sandboxId: id, cmd: "/bin/true" }), Code.FailedPrecondition, "exec while paused");
    await rejectsWith(c.pingSandbox({ sandboxId: id }), Code.FailedPrecondition, "ping while paused");
    const resumed = await c.resumeSandbox({ sandboxId: id });
    assert.equal(resumed.status, "running");
    assert.equal(text((await c.exec({ sandboxId: id, cmd: "/bin/echo", args: ["back"] })).stdout), "back\n");

    await c.destroySandbox({ sandboxId: id });
    await c.destroySandbox({ sandboxId: id }); // idempotent
    assert.deepEqual((await c.listSandboxes({})).sandboxes, []);
    await rejectsWith(c.exec({ sandboxId: id, cmd: "/bin/true" }), Code.NotFound, "exec after destroy");
  });

  it("streams files in and out with bounded chunks", async (t) => {
    await using h = await harness();
    const c = h.client;
    const dir = await mkdtemp(join(tmpdir(), "wrenn-rpc-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const id = "rpc-files";
    await c.createSandbox({ sandboxId: id });
    const file = join(dir, "big.bin");
    const piece = Buffer.alloc(100_000, 7);
    async function* upload() {
      yield { content: { case: "meta" as const, value: { sandboxId: id, path: file } } };
      for (let i = 0; i < 30; i++) yield { content: { case: "chunk" as const, value: piece } };
    }
    await c.writeFileStream(upload());
    assert.equal((await readFile(file)).length, 3_000_000);
    const chunks = await collect(c.readFileStream({ sandboxId: id, path: file }));
    assert.equal(
      chunks.reduce((n, ch) => n + ch.chunk.length, 0),
      3_000_000,
    );
    // At most 64 KiB each; all but the last at least 16 KiB (envd's reads pass on uncopied).
    assert.ok(chunks.every((ch) => ch.chunk.length <= 64 * 1024));
    assert.ok(chunks.slice(0, -1).every((ch) => ch.chunk.length >= 16 * 1024));

    async function* noMeta() {
      yield { content: { case: "chunk" as const, value: piece } };
    }
    await rejectsWith(c.writeFileStream(noMeta()), Code.InvalidArgument, "stream without meta");
    async function* twoMetas() {
      yield { content: { case: "meta" as const, value: { sandboxId: id, path: join(dir, "half.bin") } } };
      yield { content: { case: "chunk" as const, value: piece } };
      yield { content: { case: "meta" as const, value: { sandboxId: id, path: file } } };
    }
    await rejectsWith(c.writeFileStream(twoMetas()), Code.InvalidArgument, "meta after chunks");
    // envd's upload was cut off mid-body: the next call on the same capsule still works.
    assert.equal((await c.exec({ sandboxId: id, cmd: "/bin/true" })).exitCode, 0);
    await c.destroySandbox({ sandboxId: id });
  });

  it("answers NotFound for unknown capsules and InvalidArgument for bad input", async () => {
    await using h = await harness();
    const c = h.client;
    const u = { sandboxId: "nobody" };
    const pid = { case: "pid" as const, value: 1 };
    const calls: [string, () => Promise<unknown>][] = [
      ["pause", () => c.pauseSandbox(u)],
      ["resume", () => c.resumeSandbox(u)],
      ["ping", () => c.pingSandbox(u)],
      ["exec", () => c.exec({ ...u, cmd: "/bin/true" })],
      ["execStream", () => collect(c.execStream({ ...u, cmd: "/bin/true" }))],
      ["startBackground", () => c.startBackground({ ...u, cmd: "/bin/true" })],
      ["listProcesses", () => c.listProcesses(u)],
      ["killProcess", () => c.killProcess({ ...u, selector: pid })],
      ["connectProcess", () => collect(c.connectProcess({ ...u, selector: pid }))],
      ["writeFile", () => c.writeFile({ ...u, path: "/tmp/x" })],
      ["readFile", () => c.readFile({ ...u, path: "/tmp/x" })],
      ["readFileStream", () => collect(c.readFileStream({ ...u, path: "/tmp/x" }))],
      ["listDir", () => c.listDir({ ...u, path: "/" })],
      ["makeDir", () => c.makeDir({ ...u, path: "/tmp/x" })],
      ["removePath", () => c.removePath({ ...u, path: "/tmp/x" })],
      ["ptyAttach", () => collect(c.ptyAttach({ ...u, tag: "t", cmd: "/bin/sh" }))],
      ["ptySendInput", () => c.ptySendInput({ ...u, tag: "t" })],
      ["ptyResize", () => c.ptyResize({ ...u, tag: "t", cols: 80, rows: 24 })],
      ["ptyKill", () => c.ptyKill({ ...u, tag: "t" })],
      ["getSandboxMetrics", () => c.getSandboxMetrics({ ...u, range: "5m" })],
      ["flushSandboxMetrics", () => c.flushSandboxMetrics(u)],
    ];
    for (const [name, call] of calls) await rejectsWith(call(), Code.NotFound, name);

    await rejectsWith(c.exec({ sandboxId: "", cmd: "/bin/true" }), Code.InvalidArgument, "empty id");
    await rejectsWith(c.pingSandbox({ sandboxId: "" }), Code.InvalidArgument, "empty id ping");
    await rejectsWith(c.createSandbox({ sandboxId: "" }), Code.InvalidArgument, "empty id create");
    await rejectsWith(
      c.killProcess({ sandboxId: "x", selector: pid, signal: "SIGHUP" }),
      Code.InvalidArgument,
      "bad signal",
    );
    await rejectsWith(c.killProcess({ sandboxId: "x", signal: "SIGTERM" }), Code.InvalidArgument, "no selector");
    await rejectsWith(c.getSandboxMetrics({ sandboxId: "x", range: "3m" }), Code.InvalidArgument, "bad range");
    await rejectsWith(c.createSnapshot({ sandboxId: "x" }), Code.Unimplemented, "snapshot");
    await rejectsWith(c.terminate({}), Code.Unimplemented, "terminate");

    const info = await c.getHostInfo({});
    assert.equal(info.runtime, "loopback");
    assert.match(info.runtimeReason, /envd bundle/);
  });
});
