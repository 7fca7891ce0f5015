import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { MemoryLogger } from "@wrenn/kit";
import { ProcessConfigSchema, type ProcessEvent, Signal } from "@wrenn/protocol/envd/process";
import { useEnvd } from "../testing/test-envd.js";
import { UserDatabase } from "../users.js";
import { ProcessTable } from "./process-table.js";
import { processClient } from "./process-test-client.js";
import { PIPE_CHUNK_BYTES } from "./spawn.js";
import { prepareSpawn } from "./spawn-spec.js";

const MiB = 1024 * 1024;

/**
 * Resolves with the bytes written once the process has been asleep with an
 * unchanged write count for five samples in a row (0.5 s): it is blocked in
 * write() on its stdout. Rejects after 10 s.
 */
async function blockedWriter(pid: number): Promise<number> {
  let last = -1;
  let steady = 0;
  for (let i = 0; i < 100 && steady < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const written = bytesWritten(pid);
    const sleeping = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]?.startsWith("S") ?? false;
    steady = written === last && sleeping ? steady + 1 : 0;
    last = written;
  }
  if (steady < 5) throw new Error("the writer never blocked");
  return last;
}

/** Bytes a process has written so far (/proc/<pid>/io). */
function bytesWritten(pid: number): number {
  const match = /^wchar:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "latin1"));
  return Number(match?.[1] ?? -1);
}

/** Counts output bytes of a stream without keeping them. */
async function countBytes(
  stream: AsyncIterable<{ event?: ProcessEvent }>,
): Promise<{ bytes: number; maxChunk: number; end: string | undefined }> {
  let bytes = 0;
  let maxChunk = 0;
  let end: string | undefined;
  for await (const res of stream) {
    const ev = res.event?.event;
    if (ev?.case === "data") {
      bytes += ev.value.output.value?.length ?? 0;
      maxChunk = Math.max(maxChunk, ev.value.output.value?.length ?? 0);
    } else if (ev?.case === "end") {
      end = ev.value.status;
    }
  }
  return { bytes, maxChunk, end };
}

describe("Process output back-pressure", { timeout: 30_000 }, () => {
  test("a 200 MiB producer streams completely while envd's memory stays bounded", async (ctx) => {
    await using t = await useEnvd();
    const client = processClient(t.url, { binary: true });
    const size = 200 * MiB;
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = Date.now();
    try {
      const r = await countBytes(client.start({ process: { cmd: "head", args: ["-c", String(size), "/dev/zero"] } }));
      assert.equal(r.bytes, size);
      assert.equal(r.end, "exit status 0");
      assert.ok(r.maxChunk <= PIPE_CHUNK_BYTES, `chunks of at most 32 KiB, saw ${r.maxChunk}`);
    } finally {
      clearInterval(sampler);
    }
    const growth = (peak - before) / MiB;
    ctx.diagnostic(`200 MiB in ${Date.now() - started} ms, peak RSS growth ${growth.toFixed(0)} MiB`);
    assert.ok(growth < 150, `RSS grew by ${growth.toFixed(0)} MiB`);
  });

  for (const withPty of [false, true]) {
    const kind = withPty ? "PTY" : "pipes";
    test(`a client that stops reading blocks the child in write() instead of growing envd (${kind})`, async (ctx) => {
      await using t = await useEnvd();
      const client = processClient(t.url, { binary: true });
      const before = process.memoryUsage().rss;
      // The client never reads again, so only aborting the call frees its
      // connection (its receive window stays full; no FIN can get through).
      const call = new AbortController();
      const stream = client.start(
        {
          process: { cmd: "head", args: ["-c", String(1024 * MiB), "/dev/zero"] },
          pty: withPty ? {} : undefined,
        },
        { signal: call.signal },
      );
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0;
      assert.ok(pid > 0);
      // Not reading any more: the output must back up into the child, which then
      // sleeps in write() with a byte count that no longer moves.
      const last = await blockedWriter(pid);
      const growth = (process.memoryUsage().rss - before) / MiB;
      ctx.diagnostic(
        `${kind}: child blocked after writing ${(last / MiB).toFixed(1)} MiB; RSS growth ${growth.toFixed(0)} MiB`,
      );
      assert.ok(last < 64 * MiB, `the child wrote ${last} bytes before blocking`);
      assert.ok(growth < 100, `RSS grew by ${growth.toFixed(0)} MiB`);
      await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: Signal.SIGKILL });
      call.abort();
      await it.return?.().catch(() => undefined);
    });
  }

  test("a listener that stops reading is dropped instead of starving the others", async () => {
    await using t = await useEnvd();
    await using table = new ProcessTable(new MemoryLogger(), { queueCapacity: 16, listenerStallLimitMs: 200 });
    const user = new UserDatabase(`${t.dir}/etc`).lookup("root");
    const spec = await prepareSpawn(
      user,
      { cmd: "head", args: ["-c", String(32 * MiB), "/dev/zero"], envs: {}, cwd: "/", pty: undefined, stdin: false },
      { envVars: new Map(), defaultWorkdir: undefined },
    );
    const { process: proc, output } = await table.start({
      spec,
      config: create(ProcessConfigSchema, { cmd: "head" }),
      tag: undefined,
    });
    const stuck = proc.subscribe(); // a Connect client that never reads
    const r = await countBytes(
      (async function* () {
        for await (const event of output) yield { event };
      })(),
    );
    assert.equal(r.bytes, 32 * MiB, "the reading listener got everything");
    assert.equal(r.end, "exit status 0");
    // The stuck one gets what it had queued, then ResourceExhausted.
    await assert.rejects(
      (async () => {
        for await (const _ of stuck) {
          // drain
        }
      })(),
      (err: unknown) => err instanceof ConnectError && err.code === Code.ResourceExhausted,
    );
  });
});
