/** Capsules (sandboxes): lifecycle, per-capsule metrics, team stats and daily usage (inventory §2.2, §5.9). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { CapsuleId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateOnly, DateTime, SAFE_NAME_PATTERN, StringMap, TemplateName } from "../primitives/strings.js";

/**
 * Capsule statuses. The control plane writes `pending`, `running`, `paused`,
 * `stopped`, `error` and `missing`; `starting` and `hibernated` are kept from
 * the reference's enum so its clients' models still match.
 */
export const CapsuleStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("starting"),
  Type.Literal("running"),
  Type.Literal("paused"),
  Type.Literal("hibernated"),
  Type.Literal("stopped"),
  Type.Literal("missing"),
  Type.Literal("error"),
]);

/** A capsule. Absent optional fields were never set (e.g. `started_at` before the first start). */
export const Capsule = Type.Object({
  id: CapsuleId,
  status: CapsuleStatus,
  template: TemplateName,
  vcpus: Type.Integer({ minimum: 1 }),
  memory_mb: Type.Integer({ minimum: 1 }),
  timeout_sec: Type.Integer({ minimum: 0, description: "Inactivity TTL before auto-pause; 0 = never." }),
  guest_ip: Type.Optional(Type.String()),
  host_ip: Type.Optional(Type.String()),
  created_at: DateTime,
  started_at: Type.Optional(DateTime),
  last_active_at: Type.Optional(DateTime),
  last_updated: DateTime,
  metadata: Type.Optional(
    annotate(StringMap, { description: "Runtime versions recorded by the host agent (kernel, VMM, agent, envd)." }),
  ),
});

/**
 * `POST /v1/capsules`. A snapshot template forces its own vCPUs and memory.
 * Defaults are filled in by the validator.
 */
export const CreateCapsuleRequest = Type.Object({
  template: Type.Optional(
    Type.String({
      pattern: SAFE_NAME_PATTERN,
      maxLength: LIMITS.nameMaxLength,
      default: "minimal",
      examples: ["minimal"],
    }),
  ),
  vcpus: Type.Optional(Type.Integer({ minimum: LIMITS.vcpus.min, maximum: LIMITS.vcpus.max, default: 1 })),
  memory_mb: Type.Optional(
    Type.Integer({ minimum: LIMITS.memoryMb.min, maximum: LIMITS.memoryMb.max, default: LIMITS.memoryMb.default }),
  ),
  timeout_sec: Type.Optional(
    Type.Integer({
      minimum: LIMITS.capsuleTimeoutSec.min,
      maximum: LIMITS.capsuleTimeoutSec.max,
      default: 0,
      description: "Auto-pause after this many seconds without exec or ping; 0 = never.",
    }),
  ),
});

/** `{id}` of the capsule routes. */
export const CapsuleParams = Type.Object({ id: CapsuleId });

/** Ranges of `GET /v1/capsules/stats`. */
export const StatsRange = Type.Union([
  Type.Literal("5m"),
  Type.Literal("1h"),
  Type.Literal("6h"),
  Type.Literal("24h"),
  Type.Literal("30d"),
]);

/** `GET /v1/capsules/stats` query. */
export const CapsuleStatsQuery = Type.Object({ range: Type.Optional(annotate(StatsRange, { default: "1h" })) });

const Count = Type.Integer({ minimum: 0 });

/** Team-wide capsule stats: live values, 30-day peaks and a chart series. */
export const CapsuleStats = Type.Object({
  range: StatsRange,
  current: Type.Object({
    running_count: Count,
    vcpus_reserved: Count,
    memory_mb_reserved: Count,
    sampled_at: Type.Optional(DateTime),
  }),
  peaks: Type.Object({ running_count: Count, vcpus: Count, memory_mb: Count }, { description: "Last 30 days." }),
  series: Type.Object(
    {
      labels: Type.Array(DateTime),
      running: Type.Array(Count),
      vcpus: Type.Array(Count),
      memory_mb: Type.Array(Count),
    },
    { description: "Parallel arrays, one entry per time bucket (the maximum within the bucket)." },
  ),
});

/** `GET /v1/capsules/usage` query: default the last 30 days, at most 92 days. */
export const CapsuleUsageQuery = Type.Object({ from: Type.Optional(DateOnly), to: Type.Optional(DateOnly) });

/** Daily CPU and memory usage of a team. */
export const CapsuleUsage = Type.Object({
  from: DateOnly,
  to: DateOnly,
  points: Type.Array(
    Type.Object({
      date: DateOnly,
      cpu_minutes: Type.Number({ minimum: 0 }),
      ram_mb_minutes: Type.Number({ minimum: 0 }),
    }),
  ),
});

/** Ranges of `GET /v1/capsules/{id}/metrics`. */
export const MetricsRange = Type.Union([
  Type.Literal("5m"),
  Type.Literal("10m"),
  Type.Literal("1h"),
  Type.Literal("2h"),
  Type.Literal("6h"),
  Type.Literal("12h"),
  Type.Literal("24h"),
]);

/** `GET /v1/capsules/{id}/metrics` query. */
export const CapsuleMetricsQuery = Type.Object({ range: Type.Optional(annotate(MetricsRange, { default: "10m" })) });

/** One sample of a capsule's resource use. */
export const MetricPoint = Type.Object({
  timestamp_unix: Type.Integer({ minimum: 0 }),
  cpu_pct: Type.Number({ minimum: 0, maximum: 100, description: "CPU use in percent of the capsule's vCPUs." }),
  mem_bytes: Type.Integer({ minimum: 0 }),
  disk_bytes: Type.Integer({ minimum: 0 }),
});

/** Metrics of a running (from the host agent) or paused (persisted) capsule. */
export const CapsuleMetrics = Type.Object({
  sandbox_id: CapsuleId,
  range: MetricsRange,
  points: Type.Array(MetricPoint),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link CapsuleStatus}. */
export type CapsuleStatus = Static<typeof CapsuleStatus>;
/** A value matching {@link Capsule}. */
export type Capsule = Static<typeof Capsule>;
/** A value matching {@link CreateCapsuleRequest}. */
export type CreateCapsuleRequest = Static<typeof CreateCapsuleRequest>;
/** A value matching {@link CapsuleParams}. */
export type CapsuleParams = Static<typeof CapsuleParams>;
/** A value matching {@link StatsRange}. */
export type StatsRange = Static<typeof StatsRange>;
/** A value matching {@link CapsuleStatsQuery}. */
export type CapsuleStatsQuery = Static<typeof CapsuleStatsQuery>;
/** A value matching {@link CapsuleStats}. */
export type CapsuleStats = Static<typeof CapsuleStats>;
/** A value matching {@link CapsuleUsageQuery}. */
export type CapsuleUsageQuery = Static<typeof CapsuleUsageQuery>;
/** A value matching {@link CapsuleUsage}. */
export type CapsuleUsage = Static<typeof CapsuleUsage>;
/** A value matching {@link MetricsRange}. */
export type MetricsRange = Static<typeof MetricsRange>;
/** A value matching {@link CapsuleMetricsQuery}. */
export type CapsuleMetricsQuery = Static<typeof CapsuleMetricsQuery>;
/** A value matching {@link MetricPoint}. */
export type MetricPoint = Static<typeof MetricPoint>;
/** A value matching {@link CapsuleMetrics}. */
export type CapsuleMetrics = Static<typeof CapsuleMetrics>;
