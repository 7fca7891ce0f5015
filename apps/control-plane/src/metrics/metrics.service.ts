/**
 * Per-capsule metrics (inventory §5.9): read from the host agent's ring
 * buffers while the capsule runs, from `sandbox_metric_points` once it is
 * paused, and persisted at the moments the agent forgets them (pause: every
 * tier; destroy of a running capsule: the 24h tier only; destroy of a paused
 * one drops the fine 10m/2h tiers, which nobody can read any more).
 */
import type { MetricsRange } from "@wrenn/api-schema";
import type { Logger } from "@wrenn/kit";
import type { CapsuleAccess } from "../capsules/capsule-access.js";
import type { Capsule } from "../capsules/capsules.repo.js";
import { agentErrorToApi, isAgentNotFound } from "../hosts/agent-errors.js";
import type { HostAgentClient } from "../hosts/host-client-pool.js";
import { notFound } from "../http/api-error.js";
import { toPublicId } from "../ids/public-id.js";
import type { MetricPoint, MetricPointsRepo, MetricTier } from "./metric-points.repo.js";

/** Which persisted tier answers a range, and how far back it reaches (seconds). */
export const METRICS_RANGES: Readonly<Record<MetricsRange, { tier: MetricTier; seconds: number }>> = {
  "5m": { tier: "10m", seconds: 300 },
  "10m": { tier: "10m", seconds: 600 },
  "1h": { tier: "2h", seconds: 3600 },
  "2h": { tier: "2h", seconds: 7200 },
  "6h": { tier: "24h", seconds: 6 * 3600 },
  "12h": { tier: "24h", seconds: 12 * 3600 },
  "24h": { tier: "24h", seconds: 24 * 3600 },
};

/** Deadline of the metrics RPCs: a slow agent must not hold a pause or a chart for long. */
const METRICS_RPC_TIMEOUT_MS = 30_000;

/** `GET /v1/capsules/{id}/metrics` body. */
export interface CapsuleMetricsJson {
  readonly sandbox_id: string;
  readonly range: MetricsRange;
  readonly points: {
    readonly timestamp_unix: number;
    readonly cpu_pct: number;
    readonly mem_bytes: number;
    readonly disk_bytes: number;
  }[];
}

/** What the metrics service needs. */
export interface CapsuleMetricsServiceDeps {
  readonly access: CapsuleAccess;
  readonly points: MetricPointsRepo;
  readonly log: Logger;
  /** Clock (tests move it). @default Date.now */
  readonly now?: () => number;
}

/** An agent point (int64 fields are bigint) as stored. */
interface AgentPoint {
  readonly timestampUnix: bigint;
  readonly cpuPct: number;
  readonly memBytes: bigint;
  readonly diskBytes: bigint;
}

function fromAgent(points: readonly AgentPoint[]): MetricPoint[] {
  return points.map((p) => ({
    ts: Number(p.timestampUnix),
    cpuPct: p.cpuPct,
    memBytes: Number(p.memBytes),
    diskBytes: Number(p.diskBytes),
  }));
}

function toJson(point: MetricPoint): CapsuleMetricsJson["points"][number] {
  return {
    timestamp_unix: point.ts,
    // The agent clamps; a stored value from an older agent must still fit the schema.
    cpu_pct: Math.min(100, Math.max(0, point.cpuPct)),
    mem_bytes: point.memBytes,
    disk_bytes: point.diskBytes,
  };
}

/**
 * Reads capsule metrics and persists them on pause and destroy. The
 * persistence hooks never fail the lifecycle operation: losing a chart is
 * better than refusing to pause; failures are logged.
 */
export function createCapsuleMetricsService(deps: CapsuleMetricsServiceDeps) {
  const now = deps.now ?? Date.now;
  const rpc = () => ({ signal: AbortSignal.timeout(METRICS_RPC_TIMEOUT_MS) });

  async function flush(capsule: Capsule, agent: HostAgentClient) {
    return agent.flushSandboxMetrics({ sandboxId: toPublicId("capsule", capsule.id) }, rpc());
  }

  return {
    /** Metrics of a running (agent) or paused (database) capsule over `range`; 404 in other statuses. */
    async get(teamId: string, publicId: string, range: MetricsRange): Promise<CapsuleMetricsJson> {
      const capsule = await deps.access.find(teamId, publicId);
      let points: MetricPoint[];
      if (capsule.status === "running") {
        const agent = await deps.access.agent(capsule);
        try {
          points = fromAgent((await agent.getSandboxMetrics({ sandboxId: publicId, range }, rpc())).points);
        } catch (err) {
          throw agentErrorToApi(err);
        }
      } else if (capsule.status === "paused") {
        const { tier, seconds } = METRICS_RANGES[range];
        points = await deps.points.getPoints(capsule.id, tier, Math.floor(now() / 1000) - seconds);
      } else {
        throw notFound(`capsule is ${capsule.status}; metrics exist only while it is running or paused`);
      }
      return { sandbox_id: publicId, range, points: points.map(toJson) };
    },

    /** Before the agent pauses a capsule (and forgets its rings): store every tier. */
    async beforePause(capsule: Capsule, agent: HostAgentClient): Promise<void> {
      try {
        const flushed = await flush(capsule, agent);
        await deps.points.insertPoints(capsule.id, "10m", fromAgent(flushed.points10m));
        await deps.points.insertPoints(capsule.id, "2h", fromAgent(flushed.points2h));
        await deps.points.insertPoints(capsule.id, "24h", fromAgent(flushed.points24h));
      } catch (err) {
        deps.log.warn({ err, sandboxId: toPublicId("capsule", capsule.id) }, "persisting metrics before pause failed");
      }
    },

    /**
     * Before a capsule is destroyed: a running one keeps its 24h tier (the
     * long-term chart); a paused one loses its 10m/2h tiers.
     */
    async beforeDestroy(capsule: Capsule): Promise<void> {
      const sandboxId = toPublicId("capsule", capsule.id);
      try {
        if (capsule.status === "running") {
          const flushed = await flush(capsule, await deps.access.agent(capsule));
          await deps.points.insertPoints(capsule.id, "24h", fromAgent(flushed.points24h));
        } else if (capsule.status === "paused") {
          await deps.points.deleteTiers(capsule.id, ["10m", "2h"]);
        }
      } catch (err) {
        // The capsule may already be gone on the agent (NotFound): nothing to keep.
        if (!isAgentNotFound(err)) deps.log.warn({ err, sandboxId }, "persisting metrics before destroy failed");
      }
    },
  };
}

/** What {@link createCapsuleMetricsService} returns. */
export type CapsuleMetricsService = ReturnType<typeof createCapsuleMetricsService>;
