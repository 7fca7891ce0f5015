import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spawnSupervised } from "./spawn-supervised.js";

const node = process.execPath;

describe("spawnSupervised", () => {
  it("keeps the tail of stdout and stderr and reports the exit", async () => {
    const p = await spawnSupervised(
      [node, "-e", "process.stdout.write('a'.repeat(100)); console.error('boom'); process.exit(3)"],
      {
        keepOutputBytes: 10,
      },
    );
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    assert.equal(p.output().length, 10);
    assert.match(p.output(), /boom/);
    await p[Symbol.asyncDispose]();
  });

  it("gives the child a clean environment and stdin at EOF", async () => {
    const p = await spawnSupervised(
      [
        node,
        "-e",
        "let n=0;process.stdin.on('data',d=>n+=d.length).on('end',()=>console.log(JSON.stringify(Object.keys(process.env)), n))",
      ],
      {
        env: { ONLY: "1" },
      },
    );
    await p.exited;
    assert.equal(p.output().trim(), '["ONLY"] 0');
  });

  it("dispose sends SIGTERM, then SIGKILL after the grace period, and awaits the exit", async () => {
    const p = await spawnSupervised(
      [node, "-e", "process.on('SIGTERM',()=>{});setInterval(()=>{},1000);console.log('up')"],
      {
        killAfterMs: 200,
      },
    );
    while (!p.output().includes("up")) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    await p[Symbol.asyncDispose]();
    assert.ok(performance.now() - t0 >= 150);
    assert.deepEqual(await p.exited, { code: null, signal: "SIGKILL" });
  });

  it("rejects when the command does not exist", async () => {
    await assert.rejects(spawnSupervised(["/nonexistent/launcher"]), /ENOENT/);
  });
});
