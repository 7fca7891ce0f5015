import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { envdExec } from "../runtime/namespace/envd-exec.js";
import { namespaceManager, namespaceSkip } from "./namespace-manager-test-helpers.js";
import type { LifecycleOp } from "./step-timer.js";

describe("SandboxManager on NamespaceRuntime + NetnsNetwork (privileged)", {
  skip: namespaceSkip,
  timeout: 600_000,
}, () => {
  it("create → pause → resume → destroy leaves nothing behind", async (t) => {
    const steps: string[] = [];
    await using ns = await namespaceManager({
      label: "sbm",
      manager: { onStep: (op: LifecycleOp, step: string) => steps.push(`${op}/${step}`) },
    });
    const { mgr } = ns;
    const create = ns.input("sb1", { envVars: { FOO: "1" } });
    const t0 = Date.now();
    const url = (await mgr.create(create)).envdUrl ?? "";
    t.diagnostic(`create ${Date.now() - t0} ms`);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    // A keep-alive connection to envd opened before the pause, idle across it.
    const u = new URL(url);
    const conn = connect(Number(u.port), u.hostname);
    let closed = false;
    conn.on("close", () => {
      closed = true;
    });
    conn.on("error", () => undefined);
    const get = () => {
      const answer = new Promise<string>((resolve) => conn.once("data", (d: Buffer) => resolve(d.toString())));
      conn.write("GET /health HTTP/1.1\r\nHost: envd\r\n\r\n");
      return answer;
    };
    try {
      assert.match(await get(), /^HTTP\/1\.1 200/);
      steps.length = 0;
      const p0 = performance.now();
      assert.equal((await mgr.pause(create.sandboxId)).pauseMode, "memory");
      t.diagnostic(`pause ${(performance.now() - p0).toFixed(2)} ms`);
      const r0 = performance.now();
      assert.equal((await mgr.resume(create.sandboxId, undefined, { envVars: { FOO: "1" } })).status, "running");
      t.diagnostic(`resume ${(performance.now() - r0).toFixed(2)} ms`);
      // The freezer keeps the guest as it was: envd is neither prepared nor re-initialised.
      assert.deepEqual(steps, ["pause/metrics untrack", "pause/freezer", "resume/thaw", "resume/sampling restart"]);
      assert.equal(closed, false, "the connection from before the pause is still open");
      assert.match(await get(), /^HTTP\/1\.1 200/, "and answers after resume");
      const envs = (await (await fetch(`${url}/envs`)).json()) as Record<string, string>;
      assert.deepEqual([envs["WRENN_TEMPLATE_ID"], envs["FOO"]], ["minimal", "1"]);
      const seen = await envdExec(url, "printenv WRENN_TEMPLATE_ID; cat /run/wrenn/.WRENN_TEMPLATE_ID");
      assert.equal(seen.stdout, "minimal\nminimal", "a command started after resume sees the template id");
    } finally {
      conn.destroy();
    }
    await mgr.destroy(create.sandboxId);
    assert.deepEqual(ns.network.held(), []);
  });
});
