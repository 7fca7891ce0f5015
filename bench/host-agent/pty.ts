/**
 * PTY keystroke echo latency through the agent (PtyAttach + PtySendInput), idle and while
 * the same capsule's proxy carries a heavy download flood: through the proxy thread (what
 * the control plane uses) and, as the same-run "before", through `/proxy` on the RPC port. The floor is the same echo
 * straight through envd (no agent). The terminal runs `cat` in raw mode without tty echo,
 * so every byte sent comes back exactly once, written by a program, as a shell's would.
 */
import { EnvdClient } from "../../apps/host-agent/src/envd-client/envd-client.js";
import { fmtRatio, fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { guestUrls } from "./guest-server.js";
import { startFlood } from "./load-client.js";
import type { BenchPlan } from "./options.js";

const ECHO_CMD = { cmd: "/bin/sh", args: ["-c", "stty raw -echo && printf READY && exec cat"] };
const FLOOD_CONNECTIONS = 4;
const FLOOD_BODY = 64 * 1048576;

/** A terminal: bytes in, bytes out. Dispose kills it. */
interface Terminal extends AsyncDisposable {
  send(data: Uint8Array): Promise<unknown>;
  /** Everything the terminal printed so far. */
  output(): string;
  /** Resolves once `check(output)` holds; rejects after `ms`. */
  until(check: (out: string) => boolean, ms: number): Promise<void>;
}

/** Turns an output stream into a Terminal's buffer and waiters. */
function terminal(
  chunks: AsyncIterable<Uint8Array>,
  send: (d: Uint8Array) => Promise<unknown>,
  stop: () => Promise<void>,
): Terminal {
  let out = "";
  let failed: unknown;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const pump = (async () => {
    for await (const c of chunks) {
      out += Buffer.from(c).toString("latin1");
      wake();
    }
  })().catch((err: unknown) => {
    failed = err;
    wake();
  });
  return {
    send,
    output: () => out,
    until(check, ms) {
      return new Promise<void>((resolve, reject) => {
        const test = () => {
          if (check(out)) done(resolve);
          else if (failed !== undefined) done(() => reject(failed));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`terminal: no expected output in ${ms} ms`))), ms);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(test);
          fn();
        };
        waiters.add(test);
        test();
      });
    },
    async [Symbol.asyncDispose]() {
      await stop().catch(() => undefined);
      await pump;
    },
  };
}

/** The capsule's terminal through hostagent.v1. */
function agentTerminal(agent: BenchAgent, sandboxId: string, tag: string): Terminal {
  const ac = new AbortController();
  const stream = agent.client.ptyAttach({ sandboxId, tag, ...ECHO_CMD, cols: 80, rows: 24 }, { signal: ac.signal });
  async function* chunks() {
    for await (const r of stream) if (r.event.case === "output") yield r.event.value.data;
  }
  return terminal(
    chunks(),
    (data) => agent.client.ptySendInput({ sandboxId, tag, data }),
    async () => {
      await agent.client.ptyKill({ sandboxId, tag }).catch(() => undefined);
      ac.abort();
    },
  );
}

/** The capsule's terminal straight through its envd. */
function envdTerminal(envdUrl: string, tag: string): Terminal {
  const envd = new EnvdClient({ baseUrl: envdUrl });
  const ac = new AbortController();
  const stream = envd.process.start(
    { process: ECHO_CMD, pty: { size: { cols: 80, rows: 24 } }, tag, stdin: true },
    { signal: ac.signal },
  );
  async function* chunks() {
    for await (const r of stream) {
      const ev = r.event?.event;
      if (ev?.case === "data" && ev.value.output.case === "pty") yield ev.value.output.value;
    }
  }
  const selector = { selector: { case: "tag" as const, value: tag } };
  return terminal(
    chunks(),
    (data) => envd.process.sendInput({ process: selector, input: { input: { case: "pty", value: data } } }),
    async () => {
      ac.abort();
      envd.close();
    },
  );
}

/**
 * Sends up to `n` single keystrokes one after another, for at most `budgetMs` (but at least
 * 20 keystrokes); resolves with each echo's latency in ms.
 */
async function echoLatencies(t: Terminal, n: number, budgetMs: number, signal: AbortSignal): Promise<number[]> {
  await t.until((o) => o.includes("READY"), 15_000);
  const out: number[] = [];
  const end = performance.now() + budgetMs;
  for (let i = 0; i < n && (i < 20 || performance.now() < end); i++) {
    signal.throwIfAborted();
    const key = String.fromCharCode(97 + (i % 26));
    const want = t.output().length + 1;
    const t0 = performance.now();
    const sent = t.send(Buffer.from(key));
    await t.until((o) => o.length >= want && o.endsWith(key), 10_000);
    out.push(performance.now() - t0);
    await sent;
    // Keystrokes are far apart compared with an echo; do not pipeline them.
    await new Promise((r) => setTimeout(r, 5));
  }
  return out;
}

/** Echo latencies while `connections` downloads of the guest server's big body run from another process. */
async function underFlood(t: Terminal, url: string, n: number, budgetMs: number, signal: AbortSignal) {
  const flood = startFlood(url, FLOOD_CONNECTIONS);
  const run = (async () => {
    // Let the flood reach full speed before sampling.
    await new Promise((r) => setTimeout(r, 1000));
    return echoLatencies(t, n, budgetMs, signal);
  })();
  const [outcome] = await Promise.allSettled([run]);
  const moved = await flood.stop();
  if (outcome.status === "rejected") throw outcome.reason;
  return { latencies: summarize(outcome.value), mibps: moved.bytes / 1048576 / (moved.ms / 1000), moved };
}

/** PTY echo rows; the guest server must be running in `sandboxId` (it serves the flood). */
export async function benchPty(
  agent: BenchAgent,
  sandboxId: string,
  plan: BenchPlan,
  signal: AbortSignal,
): Promise<Row[]> {
  const n = plan.keystrokes;
  const budget = plan.keystrokeBudgetMs;
  const envdUrl = agent.manager.get(sandboxId).envdUrl;
  if (!envdUrl) throw new Error(`${sandboxId} has no envd URL`);
  let direct: number[];
  {
    await using t = envdTerminal(envdUrl, "bench-pty-envd");
    direct = await echoLatencies(t, n, budget, signal);
  }
  await using t = agentTerminal(agent, sandboxId, "bench-pty");
  const idle = summarize(await echoLatencies(t, n, budget, signal));
  const urls = guestUrls(agent, sandboxId);
  const big = `/big?bytes=${FLOOD_BODY}`;
  const viaProxy = await underFlood(t, `${urls.proxied}${big}`, n, budget, signal);
  // Before the proxy thread: the same flood through /proxy on the RPC port, pumped by the
  // event loop that also serves the PTY stream.
  const viaMain = await underFlood(t, `${urls.proxiedMain}${big}`, n, budget, signal);
  // Control: the same flood straight to the guest loads the capsule and the machine alike
  // but not the agent, separating the agent's share of the slowdown.
  const straight = await underFlood(t, `${urls.direct}${big}`, n, budget, signal);
  const d = summarize(direct);
  const flood = `${FLOOD_CONNECTIONS} × ${FLOOD_BODY / 1048576} MiB downloads`;
  return [
    {
      metric: "PTY keystroke echo via agent, idle",
      value: fmtSummary(idle, "ms", 2),
      floor: `straight to envd: ${fmtSummary(d, "ms", 2)}`,
      ratio: fmtRatio(idle.median, d.median),
    },
    {
      metric: `PTY keystroke echo via agent, proxy thread flooded (${flood})`,
      value: fmtSummary(viaProxy.latencies, "ms", 2),
      floor: `idle via agent: med ${idle.median.toFixed(2)} ms`,
      ratio: fmtRatio(viaProxy.latencies.median, idle.median),
    },
    {
      metric: "  flood throughput meanwhile, through the proxy thread",
      value: `${viaProxy.mibps.toFixed(0)} MiB/s (${viaProxy.moved.requests} downloads)`,
    },
    {
      metric: "before: echo via agent, same flood through /proxy on the RPC port",
      value: fmtSummary(viaMain.latencies, "ms", 2),
      floor: `idle via agent: med ${idle.median.toFixed(2)} ms`,
      ratio: fmtRatio(viaMain.latencies.median, idle.median),
    },
    {
      metric: "  flood throughput meanwhile, through /proxy on the RPC port",
      value: `${viaMain.mibps.toFixed(0)} MiB/s (${viaMain.moved.requests} downloads)`,
    },
    {
      metric: `control: echo via agent, same flood straight to the guest`,
      value: fmtSummary(straight.latencies, "ms", 2),
      floor: `idle via agent: med ${idle.median.toFixed(2)} ms`,
      ratio: fmtRatio(straight.latencies.median, idle.median),
    },
    {
      metric: "  flood throughput meanwhile, straight to the guest",
      value: `${straight.mibps.toFixed(0)} MiB/s (${straight.moved.requests} downloads)`,
    },
  ];
}
