/**
 * `node --import tsx bench/api/breakdown.ts [--quick]` (root): where the /v1 API's exec
 * round trip and file download spend their time, layer by layer, on one in-process stack
 * (control plane + PGlite + a real host agent). Each row is one layer measured alone; the
 * API rows are the sum of what is above them plus the control plane's own work. CPU per call
 * is printed too: client, control plane and agent share this process's one thread, so CPU
 * spent on a request is time another request waits.
 */
import { createApiKeysRepo } from "../../apps/control-plane/src/api-keys/api-keys.repo.js";
import { apiKeyLookupHash } from "../../apps/control-plane/src/auth/api-key.js";
import { createCapsulesRepo } from "../../apps/control-plane/src/capsules/capsules.repo.js";
import { createHostsRepo } from "../../apps/control-plane/src/hosts/hosts.repo.js";
import { parsePublicId } from "../../apps/control-plane/src/ids/public-id.js";
import { json, startStack } from "../../e2e/stack.js";
import { fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import { type Row, renderTable } from "../lib/table.js";
import { envdDirect, envdRunTrue } from "./envd-direct.js";
import { downloadBytes } from "./transfer.js";

const quick = process.argv.includes("--quick");
const calls = quick ? 100 : 400;
const transfers = quick ? 3 : 5;
const fileMiB = Number(process.env["WRENN_BENCH_FILE_MIB"] ?? (quick ? 128 : 512));
const step = (what: string) => process.stderr.write(`bench api breakdown: ${what}\n`);

/** Wall time and CPU time (user + system of this process) per call, after a short warm-up. */
async function measure(n: number, fn: () => Promise<unknown>): Promise<{ wall: number[]; cpu: number[] }> {
  for (let i = 0; i < Math.min(10, n); i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

function row(metric: string, m: { wall: number[]; cpu: number[] }): Row {
  return {
    metric,
    value: fmtSummary(summarize(m.wall), "ms", 2),
    floor: `CPU ${fmtSummary(summarize(m.cpu), "ms", 2)}`,
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the breakdown needs root (the namespace runtime)");
  const s = await startStack();
  try {
    const { id } = (await (await s.api("/v1/capsules", json({}))).json()) as { id: string };
    const { url: envdUrl, auth: envdAuth, process: envd } = envdDirect(s, id);
    const parsed = parsePublicId("capsule", id);
    if (!parsed.ok) throw new Error("bad capsule id");
    const capsuleUuid = parsed.uuid;
    const apiKeys = createApiKeysRepo(s.db);
    const capsules = createCapsulesRepo(s.db);
    const hosts = createHostsRepo(s.db);
    const keyHash = apiKeyLookupHash(s.teamA.apiKey);
    if (keyHash === undefined) throw new Error("bad API key");
    const host = await hosts.getById(s.hostId);
    if (host === undefined) throw new Error("no host row");
    const agent = s.pool.client({ id: host.id, address: host.address });
    const rows: Row[] = [];

    step(`exec layers × ${calls}`);
    rows.push(row("exec: envd direct", await measure(calls, () => envdRunTrue(envd))));
    rows.push(
      row(
        "exec: agent RPC (CP's pool client)",
        await measure(calls, () => agent.exec({ sandboxId: id, cmd: "/bin/true", timeoutSec: 30 })),
      ),
    );
    rows.push(row("db: API key by hash", await measure(calls, () => apiKeys.getByHash(keyHash))));
    rows.push(
      row(
        "db: capsule + host address (one query)",
        await measure(calls, () => capsules.getForTeamWithHost(s.teamA.teamId, capsuleUuid)),
      ),
    );
    rows.push(row("db: touch last_active", await measure(calls, () => capsules.touchLastActive(capsuleUuid))));
    rows.push(row("API: GET /health (no auth)", await measure(calls, async () => (await s.api("/health")).text())));
    rows.push(
      row(
        "API: GET /v1/capsules/{id} (auth + lookup)",
        await measure(calls, async () => (await s.api(`/v1/capsules/${id}`)).text()),
      ),
    );
    rows.push(
      row(
        "API: exec /bin/true",
        await measure(calls, async () => (await s.api(`/v1/capsules/${id}/exec`, json({ cmd: "/bin/true" }))).text()),
      ),
    );

    step(`download ${fileMiB} MiB × ${transfers} per layer`);
    const upload = await s.api(
      `/v1/capsules/${id}/exec`,
      json({ cmd: "/bin/sh", args: ["-c", `head -c ${fileMiB}M /dev/zero > /root/bench.bin`] }),
    );
    if (!upload.ok) throw new Error(`making the file: HTTP ${upload.status}`);
    await upload.text();
    const mibs = (ms: number) => fileMiB / (ms / 1000);
    const throughput = async (fn: () => Promise<unknown>) => {
      const m = await measure(transfers, fn);
      return { wall: m.wall.map(mibs), cpu: m.cpu.map((c) => c / fileMiB) };
    };
    const dl = (metric: string, m: { wall: number[]; cpu: number[] }): Row => ({
      metric,
      value: fmtSummary(summarize(m.wall), "MiB/s", 0),
      floor: `CPU ${fmtSummary(summarize(m.cpu), "ms/MiB", 2)}`,
    });
    rows.push(
      dl(
        "download: envd direct",
        await throughput(() =>
          downloadBytes(`${envdUrl}/files?path=/root/bench.bin&username=root`, envdAuth, undefined),
        ),
      ),
    );
    rows.push(
      dl(
        "download: agent RPC stream (CP's pool client)",
        await throughput(async () => {
          for await (const _ of agent.readFileStream({ sandboxId: id, path: "/root/bench.bin", user: "" })) {
            // drain
          }
        }),
      ),
    );
    const files = s.pool.files({ id: host.id, address: host.address });
    rows.push(
      dl(
        "download: agent plain HTTP (what the API uses)",
        await throughput(async () => {
          const res = await files.download(
            { sandboxId: id, path: "/root/bench.bin", user: "" },
            AbortSignal.timeout(600_000),
          );
          for await (const _ of res) {
            // drain
          }
        }),
      ),
    );
    rows.push(
      dl(
        "download: API",
        await throughput(() =>
          downloadBytes(
            `${s.base}/v1/capsules/${id}/files/stream/read`,
            { "x-api-key": s.teamA.apiKey, "content-type": "application/json" },
            JSON.stringify({ path: "/root/bench.bin" }),
          ),
        ),
      ),
    );
    await s.api(`/v1/capsules/${id}`, { method: "DELETE" });
    const load = (await import("node:os")).loadavg()[0]?.toFixed(1);
    process.stdout.write(renderTable(`API breakdown, one layer per row (load ${load})`, rows));
  } finally {
    await s[Symbol.asyncDispose]();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench api breakdown: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
