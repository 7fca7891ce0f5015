// Host agent benchmarks: ./wrenn bench host-agent [--quick] [--runtime namespace|qemu|all]
// Every table shows the floor measured in the same run next to each value.
import { cpus, loadavg, release } from "node:os";
import { fmtBytes } from "../lib/format.js";
import { trapInterrupts } from "../lib/interrupt.js";
import { memAvailable } from "../lib/memory.js";
import { type Row, renderTable } from "../lib/table.js";
import { type BenchAgent, startBenchAgent } from "./agent.js";
import { BENCH_TEMPLATE, benchCreate, CAPSULE_SHAPE } from "./create.js";
import { benchNamespaceDensity, benchQemuDensity } from "./density.js";
import { benchDensityRamp } from "./density-ramp.js";
import { benchImage, benchLeftovers, benchSkipReason, sweepBenchState, takeLock } from "./environment.js";
import { startGuestServer } from "./guest-server.js";
import { StepLog } from "./lifecycle-steps.js";
import { type BenchOptions, type BenchPlan, benchPlan, parseBenchArgs, USAGE, UsageError } from "./options.js";
import { benchPause } from "./pause.js";
import { benchProxy } from "./proxy.js";
import { benchProxyIsolation } from "./proxy-isolation.js";
import { benchPty } from "./pty.js";
import { benchQemuRestore } from "./qemu-restore.js";

function parseOrExit(): BenchOptions {
  try {
    const o = parseBenchArgs(process.argv.slice(2));
    if (o.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    return o;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench host-agent: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
}

const options = parseOrExit();
const skip = benchSkipReason();
if (skip) {
  process.stderr.write(`bench host-agent: ${skip}\n`);
  process.exit(2);
}
const plan = benchPlan(options.quick);
const failures: string[] = [];
using interrupt = trapInterrupts();
const { signal } = interrupt;

/** Runs one section and prints its table; a failure is reported and the next section runs. */
async function section(title: string, run: () => Promise<Row[]>): Promise<void> {
  signal.throwIfAborted();
  const t0 = performance.now();
  try {
    const rows = await run();
    const took = ((performance.now() - t0) / 1000).toFixed(0);
    process.stdout.write(renderTable(`${title}  [${took} s]`, rows));
  } catch (err) {
    if (signal.aborted) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    failures.push(`${title}: ${msg}`);
    process.stderr.write(`\n${title}: FAILED: ${msg}\n`);
  }
}

/** Proxy and PTY on one capsule running the guest HTTP server. */
async function proxyAndPty(agent: BenchAgent, p: BenchPlan): Promise<void> {
  const id = "proxy-0";
  await agent.client.createSandbox({ sandboxId: id, templateId: BENCH_TEMPLATE, ...CAPSULE_SHAPE }, { signal });
  try {
    await startGuestServer(agent, id, signal);
    await section(`proxy throughput (${agent.kind}): /proxy/{id}/{port} vs direct to the guest port`, () =>
      benchProxy(agent, id, p, signal),
    );
    await section(`PTY keystroke echo (${agent.kind}): idle and with heavy proxy traffic to the same capsule`, () =>
      benchPty(agent, id, p, signal),
    );
    await section("proxy isolation and TLS cost: a request on the RPC port while /proxy is flooded (loopback)", () =>
      benchProxyIsolation(p.keystrokeBudgetMs / 2),
    );
  } finally {
    await agent.client.destroySandbox({ sandboxId: id });
  }
}

async function benchRuntime(kind: "namespace" | "qemu", first: boolean, image: Awaited<ReturnType<typeof benchImage>>) {
  const steps = new StepLog();
  await using agent = await startBenchAgent(kind, image, steps);
  if (kind === "qemu" && !options.densityOnly && !options.lifecycleOnly) {
    await section("qemu: create from the template snapshot vs cold boot, step by step (runtime only)", () =>
      benchQemuRestore(agent, plan.qemuRestore, signal),
    );
    if (options.restoreOnly) return;
  }
  if (!options.densityOnly) {
    await section(`create → first command (${kind}; through hostagent.v1: CreateSandbox + Exec \`true\`)`, () =>
      benchCreate(agent, plan, steps, signal),
    );
    await section(`pause / resume (${kind})`, () => benchPause(agent, plan, steps, signal));
    if (first && !options.lifecycleOnly) await proxyAndPty(agent, plan);
  }
  if (options.lifecycleOnly) return;
  await section(`memory per idle capsule and density (${kind})`, () =>
    kind === "namespace"
      ? benchNamespaceDensity(agent, options.capsules, plan.idleSeconds, signal)
      : benchQemuDensity(agent, options.vms, plan.idleSeconds, signal),
  );
  if (kind === "namespace" && options.ramp > 0) {
    await section(`idle capsules until a budget is reached (${kind}; 50 per step)`, () =>
      benchDensityRamp(
        agent,
        { max: options.ramp, step: 50, settleSeconds: 10, windowSeconds: 10, cpuShare: 0.8, memFloorShare: 0.1 },
        signal,
      ),
    );
  }
}

{
  await using _lock = await takeLock();
  // A crashed or force-quit earlier run may have left capsules, slots or mounts.
  await sweepBenchState();
  try {
    const image = await benchImage(options.runtimes.includes("qemu"), signal);
    process.stdout.write(
      `host-agent benchmarks (${options.quick ? "quick" : "full"}; runtimes ${options.runtimes.join(", ")}; ` +
        `Node ${process.version}; kernel ${release()}; ${cpus().length} vCPUs; load ${loadavg()[0]?.toFixed(2)}; ` +
        `MemAvailable ${fmtBytes(await memAvailable())}). The machine is shared with other work: ` +
        `numbers move with its load; every floor is measured in the same run.\n`,
    );
    for (const [i, kind] of options.runtimes.entries()) {
      try {
        await benchRuntime(kind, i === 0, image);
      } catch (err) {
        if (signal.aborted) throw err;
        failures.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
        process.stderr.write(`\n${kind}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
    process.stderr.write("interrupted; cleaning up\n");
  } finally {
    await sweepBenchState();
    const left = await benchLeftovers();
    process.stderr.write(
      left.length === 0 ? "\ncleanup: nothing left behind\n" : `\ncleanup: LEFT ${left.join(", ")}\n`,
    );
  }
}
if (signal.aborted) process.exitCode = 130;
else if (failures.length > 0) {
  process.stderr.write(`\n${failures.length} section(s) failed:\n  ${failures.join("\n  ")}\n`);
  process.exitCode = 1;
}
