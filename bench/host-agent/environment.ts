/**
 * The host state the benchmark owns: fixed names (so a crashed run's leftovers are found and
 * removed by the next one), a lock against two runs at once, the guest image, and the final
 * sweep. Every name differs from the agent's (`wrn`, 10.211/16) and the tests' (`t…`, 10.213/16).
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rmdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CommandRunner, ExecFileRunner } from "../../apps/host-agent/src/exec/command-runner.js";
import { type BuiltImage, buildImage, defaultImageSources } from "../../apps/host-agent/src/images/image-builder.js";
import { formatProgress } from "../../apps/host-agent/src/images/progress.js";
import { mountsBelow, parseMountPoints, removeTreeSafely } from "../../apps/host-agent/src/images/safe-remove.js";
import { MINIMAL_TEMPLATE } from "../../apps/host-agent/src/images/template.js";
import { DEFAULT_NET_CONFIG, type NetConfig } from "../../apps/host-agent/src/net/net-config.js";
import { listOwnedNames, NetnsNetwork } from "../../apps/host-agent/src/net/netns-network.js";
import { detectCgroups } from "../../apps/host-agent/src/runtime/namespace/cgroups.js";
import { NamespaceRuntime } from "../../apps/host-agent/src/runtime/namespace/namespace-runtime.js";
import type { BenchRuntime } from "./options.js";

/** Parent of every capsule state dir, overlay and floor run of the benchmark. */
export const BENCH_STATE_ROOT = "/tmp/wrenn-bench-host-agent";
/** cgroup segment shared by the benchmark's namespace capsules. */
export const BENCH_CGROUP_PARENT = "wrenn-bench";
/**
 * Marker in the command line of every helper process the benchmark starts itself (floor
 * servers, load generators), so a later run can find what a crash left. Distinct from the
 * state root's name, which shells and other tools may well mention.
 */
export const BENCH_PROCESS_MARKER = "wrenn-bench-helper-process";
const LOCK_FILE = "/run/wrenn-bench-host-agent.lock";

/** The network layout of each runtime's agent: own prefix, own /16, a pool for pooled creates. */
export function benchNetConfig(kind: BenchRuntime): NetConfig {
  return kind === "namespace"
    ? { ...DEFAULT_NET_CONFIG, prefix: "wbn", subnet: "10.214.0.0/16", firstSlot: 1, slotCount: 2000, poolSize: 12 }
    : { ...DEFAULT_NET_CONFIG, prefix: "wbq", subnet: "10.215.0.0/16", firstSlot: 1, slotCount: 64, poolSize: 12 };
}

/** `$WRENN_DIR`, where images and QEMU template snapshots are cached. @default /var/lib/wrenn */
export function wrennDir(): string {
  return process.env["WRENN_DIR"] || "/var/lib/wrenn";
}

/** Why the benchmark cannot run here, or undefined. */
export function benchSkipReason(): string | undefined {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root (network namespaces, cgroups, overlay mounts)";
  if (!existsSync(defaultImageSources().envdBundle)) return "the envd bundle is missing (npm run build -w @wrenn/envd)";
  return undefined;
}

/** Takes the run lock; a live holder makes this throw. Dispose releases it. */
export async function takeLock(): Promise<AsyncDisposable> {
  const held = await readFile(LOCK_FILE, "utf8").catch(() => "");
  const pid = Number(held.trim());
  if (pid > 0 && pid !== process.pid && (await isBenchProcess(pid))) {
    throw new Error(`another host-agent benchmark is running (pid ${pid}); wait for it to finish`);
  }
  await unlink(LOCK_FILE).catch(() => undefined);
  await writeFile(LOCK_FILE, `${process.pid}\n`, { flag: "wx" });
  return { [Symbol.asyncDispose]: () => unlink(LOCK_FILE).catch(() => undefined) };
}

async function isBenchProcess(pid: number): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmd.includes("bench/host-agent");
}

/** PIDs whose command line contains every one of `needles` (never this process). */
export async function processesWith(...needles: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (needles.every((n) => cmd.includes(n))) out.push(Number(p));
  }
  return out;
}

/**
 * Removes whatever a previous (crashed or force-quit) run left, or what this run could not
 * release: helper processes it started (QEMU, floor servers; matched by their command line
 * naming the state root or the marker, killed by PID), the capsule cgroups, overlay mounts,
 * network namespaces, veths and nft tables of the bench prefixes, and the state root.
 */
export async function sweepBenchState(runner: CommandRunner = new ExecFileRunner()): Promise<void> {
  const stale = [
    ...(await processesWith("qemu-system", BENCH_STATE_ROOT)),
    ...(await processesWith(BENCH_PROCESS_MARKER)),
  ];
  for (const pid of new Set(stale)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  const runtime = new NamespaceRuntime({ runner, cgroupParent: BENCH_CGROUP_PARENT });
  await runtime.cleanupLeftovers(BENCH_STATE_ROOT);
  for (const kind of ["namespace", "qemu"] as const) {
    const network = new NetnsNetwork(benchNetConfig(kind), runner);
    // Leftover removal only; disposing an unstarted provider also drops its nft table.
    await network.cleanupLeftovers();
    await network[Symbol.asyncDispose]();
  }
  await removeCgroupParent();
  await removeTreeSafely(BENCH_STATE_ROOT, runner);
}

/** Removes the (then empty) cgroup parent of the bench capsules in every hierarchy. */
async function removeCgroupParent(): Promise<void> {
  const host = await detectCgroups();
  if ("missing" in host) return;
  const roots = host.version === 2 ? [host.root] : [...new Set(Object.values(host.v1Mounts))];
  for (const r of roots) await rmdir(join(r, BENCH_CGROUP_PARENT)).catch(() => undefined);
}

/** The cached `minimal` image (built once when missing, with progress on stderr). */
export async function benchImage(ext4: boolean, signal: AbortSignal): Promise<BuiltImage> {
  // One line per phase change, or every 5 s within a phase: a build reports many ticks.
  let lastPhase = "";
  let lastAt = 0;
  const image = await buildImage({
    wrennDir: wrennDir(),
    template: MINIMAL_TEMPLATE,
    sources: defaultImageSources(),
    runner: new ExecFileRunner(),
    ext4,
    signal,
    onProgress: (p) => {
      if (p.phase === "cached" || p.phase === "hash") return;
      const now = Date.now();
      if (p.phase === lastPhase && now - lastAt < 5000 && p.phase !== "done") return;
      lastPhase = p.phase;
      lastAt = now;
      process.stderr.write(`  image: ${formatProgress(p)}\n`);
    },
  });
  return image;
}

/** Everything of the benchmark still on the host (empty after a clean run). */
export async function benchLeftovers(runner: CommandRunner = new ExecFileRunner()): Promise<string[]> {
  const left: string[] = [];
  for (const kind of ["namespace", "qemu"] as const) {
    const o = await listOwnedNames(runner, benchNetConfig(kind).prefix);
    left.push(...o.netns, ...o.links, ...o.tables.map((t) => `nft ${t}`));
  }
  const mounts = mountsBelow(parseMountPoints(await readFile("/proc/self/mountinfo", "utf8")), BENCH_STATE_ROOT);
  left.push(...mounts.map((m) => `mount ${m}`));
  const host = await detectCgroups();
  if (!("missing" in host)) {
    const roots = host.version === 2 ? [host.root] : [...new Set(Object.values(host.v1Mounts))];
    for (const r of roots)
      if (existsSync(join(r, BENCH_CGROUP_PARENT))) left.push(`cgroup ${join(r, BENCH_CGROUP_PARENT)}`);
  }
  const procs = [
    ...(await processesWith("qemu-system", BENCH_STATE_ROOT)),
    ...(await processesWith(BENCH_PROCESS_MARKER)),
  ];
  left.push(...[...new Set(procs)].map((p) => `process ${p}`));
  if (existsSync(BENCH_STATE_ROOT)) left.push(BENCH_STATE_ROOT);
  return left;
}
