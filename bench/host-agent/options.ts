import { parseArgs } from "node:util";

/** A runtime the benchmark can measure. */
export type BenchRuntime = "namespace" | "qemu";

/** What `./wrenn bench host-agent` was asked to do. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Runtimes to measure, in order; the first one also hosts the proxy and PTY benchmarks. */
  readonly runtimes: readonly BenchRuntime[];
  /** Idle namespace capsules started for the density measurement. */
  readonly capsules: number;
  /** Idle QEMU VMs started for the density measurement. */
  readonly vms: number;
  /**
   * Namespace only: after the density section, start idle capsules in steps of 50 until the
   * CPU or memory budget is reached or this many run. 0 = no ramp.
   */
  readonly ramp: number;
  /** Only the memory/density section (no create, pause, proxy or PTY sections). */
  readonly densityOnly: boolean;
  /** Only the create and pause/resume sections, with their per-step breakdowns. */
  readonly lifecycleOnly: boolean;
  /** Only the qemu restore-vs-cold-boot breakdown (implies `--runtime qemu`). */
  readonly restoreOnly: boolean;
  readonly help: boolean;
}

/** Thrown for a bad command line; the message is meant for the user as is. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The help text. */
export const USAGE = `Usage: ./wrenn bench host-agent [--quick] [--runtime namespace|qemu|all] [--capsules N] [--vms N] [--density-only] [--lifecycle-only] [--restore-only] [--ramp N]
  --quick         fewer runs, smaller transfers, 50 idle capsules (a few minutes)
  --runtime R     namespace, qemu or all (default: all); the first one also runs the
                  proxy and PTY benchmarks
  --capsules N    idle namespace capsules for the memory measurement (default 50 quick, 100
                  full; on 2 vCPUs about 300 idle capsules saturate the CPU)
  --vms N         idle QEMU VMs for the memory measurement (default 3 quick, 6 full)
  --density-only  run only the memory per idle capsule / density section
  --lifecycle-only  run only create → first command and pause / resume, with where the
                  time goes step by step
  --restore-only  qemu only: create from the template snapshot next to a cold boot, step by
                  step, and what the snapshot is made of
  --ramp N        namespace: then start idle capsules 50 at a time until the capsules and the
                  agent use 80 % of all CPUs, MemAvailable falls below 10 %, or N run
Needs root (network namespaces, cgroups, overlay mounts). Sends traffic only to loopback and
to the addresses of the namespaces it creates; removes everything it made, also on Ctrl-C.
`;

function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} needs a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < 1 || n > max) throw new UsageError(`--${name} must be between 1 and ${max}`);
  return n;
}

/** PURE: parses the benchmark's arguments (without the `bench host-agent` words). */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const quick = v.quick === true;
  const which = v.runtime ?? "all";
  const restoreOnly = v["restore-only"] === true;
  const runtimes: BenchRuntime[] = restoreOnly
    ? ["qemu"]
    : which === "all"
      ? ["namespace", "qemu"]
      : which === "namespace" || which === "qemu"
        ? [which]
        : [];
  if (runtimes.length === 0)
    throw new UsageError(`--runtime must be namespace, qemu or all, got ${JSON.stringify(which)}`);
  if (v["density-only"] === true && v["lifecycle-only"] === true)
    throw new UsageError("--density-only and --lifecycle-only exclude each other");
  return {
    quick,
    runtimes,
    // Slots are a /16 split into /30s; the provider is configured for 2000 of them.
    // 100 in full mode: enough for stable medians. On the 2-vCPU build machine about 300
    // idle capsules use all CPU (envd's idle work); --ramp measures where that happens.
    capsules: positiveInt("capsules", v.capsules, quick ? 50 : 100, 1900),
    vms: positiveInt("vms", v.vms, quick ? 3 : 6, 40),
    densityOnly: v["density-only"] === true,
    lifecycleOnly: v["lifecycle-only"] === true,
    restoreOnly,
    ramp: v.ramp === undefined ? 0 : positiveInt("ramp", v.ramp, 0, 1900),
    help: v.help === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      runtime: { type: "string" },
      capsules: { type: "string" },
      vms: { type: "string" },
      "density-only": { type: "boolean" },
      "lifecycle-only": { type: "boolean" },
      "restore-only": { type: "boolean" },
      ramp: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** How much each section does; derived from --quick. */
export interface BenchPlan {
  /** Sequential create → first command runs per runtime (and floor runs, interleaved). */
  readonly createRuns: { readonly namespace: number; readonly qemu: number };
  /** Cold boots measured as the qemu floor. */
  readonly qemuColdBoots: number;
  /** qemu restore breakdown: restores, the first `coldBoots` interleaved with a cold boot. */
  readonly qemuRestore: { readonly restores: number; readonly coldBoots: number };
  /** Rounds of 10 concurrent creates. */
  readonly concurrentRounds: { readonly namespace: number; readonly qemu: number };
  /** Pause/resume cycles per runtime. */
  readonly pauseCycles: { readonly namespace: number; readonly qemu: number };
  /** Size of the large download through the proxy and direct (namespace; qemu gets 1/8). */
  readonly downloadBytes: number;
  /** Best-of repeats of the large download. */
  readonly downloadRepeats: number;
  /** Small requests per measurement. */
  readonly smallRequests: number;
  /** Keystrokes per PTY echo measurement (at most; see keystrokeBudgetMs). */
  readonly keystrokes: number;
  /** Time budget per PTY echo measurement: it stops early (after ≥ 20 keystrokes) when slow. */
  readonly keystrokeBudgetMs: number;
  /** Seconds the idle capsules sit before memory and CPU are read. */
  readonly idleSeconds: number;
}

/** PURE: the amounts of work for quick or full mode. */
export function benchPlan(quick: boolean): BenchPlan {
  return quick
    ? {
        createRuns: { namespace: 8, qemu: 3 },
        qemuColdBoots: 2,
        qemuRestore: { restores: 5, coldBoots: 3 },
        concurrentRounds: { namespace: 1, qemu: 1 },
        pauseCycles: { namespace: 30, qemu: 3 },
        downloadBytes: 256 * 1048576,
        downloadRepeats: 1,
        smallRequests: 2000,
        keystrokes: 200,
        keystrokeBudgetMs: 10_000,
        idleSeconds: 5,
      }
    : {
        createRuns: { namespace: 30, qemu: 8 },
        qemuColdBoots: 4,
        qemuRestore: { restores: 10, coldBoots: 5 },
        concurrentRounds: { namespace: 3, qemu: 1 },
        pauseCycles: { namespace: 200, qemu: 6 },
        downloadBytes: 1024 * 1048576,
        downloadRepeats: 3,
        smallRequests: 10_000,
        keystrokes: 1000,
        keystrokeBudgetMs: 45_000,
        idleSeconds: 15,
      };
}
