/**
 * `./wrenn bench api [--quick]`: the /v1 API's cost next to the layers below
 * it, measured in the same run on one in-process stack (control plane +
 * PGlite + a real host agent with the namespace runtime):
 *   - create → first exec through the API vs through the agent's RPC directly;
 *   - exec round trip through the API vs straight to the capsule's envd, and the
 *     API's overhead over the agent's Exec RPC;
 *   - file upload / download through the API vs straight to envd's /files,
 *     with the control plane's RSS growth during the transfer, and the download
 *     next to the agent's ReadFileStream RPC.
 * Needs root (namespaces).
 */
import { json, startStack } from "../../e2e/stack.js";
import { fmtRatio } from "../lib/format.js";
import { summarize, timeRuns } from "../lib/stats.js";
import { fmt, type Row, renderTable } from "../lib/table.js";
import { envdDirect, envdRunTrue } from "./envd-direct.js";
import { downloadBytes, uploadBytes } from "./transfer.js";

const quick = process.argv.includes("--quick");
const creates = quick ? 5 : 20;
const execs = quick ? 50 : 300;
const fileMiB = Number(process.env["WRENN_BENCH_FILE_MIB"] ?? (quick ? 256 : 1024));
const step = (what: string) => process.stderr.write(`bench api: ${what}\n`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench api needs root (the namespace runtime)");
  const s = await startStack();
  try {
    const rows: Row[] = [];
    step(`create → first exec × ${creates}, through the API and through the agent RPC`);
    const apiCreate = await timeRuns(
      creates,
      async () => {
        const res = await s.api("/v1/capsules", json({}));
        const { id } = (await res.json()) as { id: string };
        await (await s.api(`/v1/capsules/${id}/exec`, json({ cmd: "/bin/true" }))).text();
        await s.api(`/v1/capsules/${id}`, { method: "DELETE" });
      },
      1,
    );
    let n = 0;
    const rpcCreate = await timeRuns(
      creates,
      async () => {
        const sandboxId = `cl-bench${String(n++).padStart(18, "0")}`;
        await s.agent.client.createSandbox({ sandboxId, vcpus: 1, memoryMb: 512, templateName: "minimal" });
        await s.agent.client.exec({ sandboxId, cmd: "/bin/true", timeoutSec: 30 });
        await s.agent.client.destroySandbox({ sandboxId });
      },
      1,
    );
    const a = summarize(apiCreate);
    const r = summarize(rpcCreate);
    rows.push({
      metric: "create → first exec → destroy",
      value: `${fmt(a.median, "ms", 0)} · p99 ${fmt(a.p99, "ms", 0)}`,
      floor: `agent RPC ${fmt(r.median, "ms", 0)}`,
      ratio: fmtRatio(a.median, r.median),
    });

    step(`exec round trip × ${execs}, through the API and straight to envd`);
    const { id } = (await (await s.api("/v1/capsules", json({}))).json()) as { id: string };
    const { url: envdUrl, auth: envdAuth, process: envd } = envdDirect(s, id);
    const apiExec = summarize(
      await timeRuns(execs, async () => (await s.api(`/v1/capsules/${id}/exec`, json({ cmd: "/bin/true" }))).text()),
    );
    // The control plane's own client of the agent (binary Connect, its keep-alive pool).
    const rpc = s.pool.client({ id: s.hostId, address: new URL(s.agent.agent.url).host });
    const rpcExec = summarize(
      await timeRuns(execs, () => rpc.exec({ sandboxId: id, cmd: "/bin/true", timeoutSec: 30 })),
    );
    const envdExec = summarize(await timeRuns(execs, () => envdRunTrue(envd)));
    rows.push({
      metric: "exec /bin/true round trip",
      value: `${fmt(apiExec.median, "ms")} · p99 ${fmt(apiExec.p99, "ms")}`,
      floor: `envd direct ${fmt(envdExec.median, "ms")}`,
      ratio: fmtRatio(apiExec.median, envdExec.median),
    });
    rows.push({
      metric: "exec: API over the agent RPC",
      value: `+${fmt(apiExec.median - rpcExec.median, "ms")}`,
      floor: `agent RPC ${fmt(rpcExec.median, "ms")}`,
      ratio: fmtRatio(apiExec.median, rpcExec.median),
    });

    step(`${fileMiB} MiB up and down, through the API and straight to envd`);
    const bytes = fileMiB * 1024 * 1024;
    const headers = { "x-api-key": s.teamA.apiKey };
    const upApi = await uploadBytes(`${s.base}/v1/capsules/${id}/files/stream/write`, bytes, "multipart", headers);
    const upEnvd = await uploadBytes(`${envdUrl}/files?path=/root/direct.bin&username=root`, bytes, "octet", envdAuth);
    const downApi = await downloadBytes(
      `${s.base}/v1/capsules/${id}/files/stream/read`,
      { ...headers, "content-type": "application/json" },
      JSON.stringify({ path: "/root/bench.bin" }),
    );
    const rpcDown = performance.now();
    for await (const _ of rpc.readFileStream({ sandboxId: id, path: "/root/bench.bin", user: "" })) {
      // drain
    }
    const downRpcMs = performance.now() - rpcDown;
    const downEnvd = await downloadBytes(`${envdUrl}/files?path=/root/direct.bin&username=root`, envdAuth, undefined);
    const mibs = (ms: number) => fileMiB / (ms / 1000);
    rows.push({
      metric: `upload ${fileMiB} MiB`,
      value: `${fmt(mibs(upApi.ms), "MiB/s", 0)} (CP RSS +${upApi.rssGrowthMiB.toFixed(0)} MiB)`,
      floor: `envd direct ${fmt(mibs(upEnvd.ms), "MiB/s", 0)}`,
      ratio: fmtRatio(mibs(upApi.ms), mibs(upEnvd.ms)),
    });
    rows.push({
      metric: `download ${fileMiB} MiB`,
      value: `${fmt(mibs(downApi.ms), "MiB/s", 0)} (CP RSS +${downApi.rssGrowthMiB.toFixed(0)} MiB)`,
      floor: `envd direct ${fmt(mibs(downEnvd.ms), "MiB/s", 0)}`,
      ratio: fmtRatio(mibs(downApi.ms), mibs(downEnvd.ms)),
    });
    rows.push({
      metric: `download ${fileMiB} MiB: API vs agent RPC`,
      value: fmt(mibs(downApi.ms), "MiB/s", 0),
      floor: `ReadFileStream ${fmt(mibs(downRpcMs), "MiB/s", 0)}`,
      ratio: fmtRatio(mibs(downApi.ms), mibs(downRpcMs)),
    });
    await s.api(`/v1/capsules/${id}`, { method: "DELETE" });
    process.stdout.write(
      renderTable(`API vs the layers below (load ${(await import("node:os")).loadavg()[0]?.toFixed(1)})`, rows),
    );
  } finally {
    await s[Symbol.asyncDispose]();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench api: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
