/** Terminal and metrics handlers. */
import type { ServiceImpl } from "@connectrpc/connect";
import { Signal } from "@wrenn/protocol/envd/process";
import type { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { isMetricsRange, type MetricPoint } from "../metrics/metrics-store.js";
import { type HostAgentDeps, runningEnvd } from "./context.js";
import { invalidArgument, requireSandboxId } from "./errors.js";
import { processConfig, userHeaders } from "./process-config.js";

type Impl = ServiceImpl<typeof HostAgentService>;

function requireTag(tag: string): string {
  if (tag === "") throw invalidArgument("tag is required");
  return tag;
}

function point(p: MetricPoint) {
  return {
    timestampUnix: BigInt(Math.floor(p.timestampMs / 1000)),
    cpuPct: p.cpuPct,
    memBytes: BigInt(Math.round(p.memBytes)),
    diskBytes: BigInt(Math.round(p.diskBytes)),
  };
}

/** The terminal and metrics part of the service. */
export function ptyMetricsHandlers(
  deps: HostAgentDeps,
): Pick<Impl, "ptyAttach" | "ptySendInput" | "ptyResize" | "ptyKill" | "getSandboxMetrics" | "flushSandboxMetrics"> {
  return {
    async *ptyAttach(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      const tag = requireTag(req.tag);
      const events =
        req.cmd === ""
          ? envd.process.connect({ process: { selector: { case: "tag", value: tag } } }, { signal: ctx.signal })
          : envd.process.start(
              {
                process: processConfig(req),
                pty: { size: { cols: req.cols || 80, rows: req.rows || 24 } },
                tag,
                stdin: true,
              },
              { signal: ctx.signal, headers: userHeaders(req.user) },
            );
      const reattach = req.cmd === "";
      for await (const r of events) {
        const ev = r.event?.event;
        // On reattach envd sends a synthetic start; the reference did not forward it.
        if (ev?.case === "start" && !reattach) yield { event: { case: "started", value: { pid: ev.value.pid, tag } } };
        if (ev?.case === "data" && ev.value.output.case === "pty")
          yield { event: { case: "output", value: { data: ev.value.output.value } } };
        if (ev?.case === "end")
          yield { event: { case: "exited", value: { exitCode: ev.value.exitCode, error: ev.value.error ?? "" } } };
      }
    },
    async ptySendInput(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      await envd.process.sendInput(
        {
          process: { selector: { case: "tag", value: requireTag(req.tag) } },
          input: { input: { case: "pty", value: req.data } },
        },
        { signal: ctx.signal },
      );
      return {};
    },
    async ptyResize(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      if (req.cols === 0 || req.rows === 0) throw invalidArgument("cols and rows must be positive");
      await envd.process.update(
        {
          process: { selector: { case: "tag", value: requireTag(req.tag) } },
          pty: { size: { cols: req.cols, rows: req.rows } },
        },
        { signal: ctx.signal },
      );
      return {};
    },
    async ptyKill(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      await envd.process.sendSignal(
        { process: { selector: { case: "tag", value: requireTag(req.tag) } }, signal: Signal.SIGKILL },
        { signal: ctx.signal },
      );
      return {};
    },
    async getSandboxMetrics(req) {
      const id = requireSandboxId(req.sandboxId);
      if (!isMetricsRange(req.range)) throw invalidArgument(`bad range ${JSON.stringify(req.range)}`);
      return { points: deps.manager.metrics(id).query(req.range, Date.now()).map(point) };
    },
    async flushSandboxMetrics(req) {
      // Stops the sampler and drains every tier (the control plane keeps the 24 h tier
      // before a destroy).
      const all = await deps.manager.flushMetrics(requireSandboxId(req.sandboxId));
      return { points10m: all["10m"].map(point), points2h: all["2h"].map(point), points24h: all["24h"].map(point) };
    },
  };
}
