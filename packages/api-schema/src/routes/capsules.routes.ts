/** Capsule lifecycle, exec, processes, metrics and the three capsule WebSockets. */
import Type from "typebox";
import {
  Capsule,
  CapsuleMetrics,
  CapsuleMetricsQuery,
  CapsuleParams,
  CapsuleStats,
  CapsuleStatsQuery,
  CapsuleUsage,
  CapsuleUsageQuery,
  CreateCapsuleRequest,
} from "../schemas/capsules.js";
import {
  BackgroundExecResponse,
  ExecRequest,
  ExecResponse,
  KillProcessQuery,
  ProcessList,
  ProcessParams,
} from "../schemas/exec.js";
import {
  ExecStreamClientMessage,
  ExecStreamServerMessage,
  ProcessStreamClientMessage,
  ProcessStreamServerMessage,
  PtyClientMessage,
  PtyServerMessage,
} from "../ws/messages.js";
import { defineRoutes, type RouteDefinition } from "./route.js";

const NoContent = Type.Null();
const Upgrade = Type.Null();
/** Statuses of routes that call the capsule's host agent. */
const AGENT = [502, 503] as const;

/**
 * Definitions of the capsule routes that the admin API repeats for platform
 * capsules (see `admin-capsules.routes.ts`).
 */
export const capsuleDefinitions = {
  getCapsule: {
    method: "GET",
    url: "/v1/capsules/:id",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "A capsule, in any status (stopped ones too)",
    schema: { params: CapsuleParams, response: { 200: Capsule } },
    errors: [404],
  },
  destroyCapsule: {
    method: "DELETE",
    url: "/v1/capsules/:id",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Destroy a capsule",
    schema: { params: CapsuleParams, response: { 204: NoContent } },
    errors: [404, ...AGENT],
  },
  execCommand: {
    method: "POST",
    url: "/v1/capsules/:id/exec",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Run a command: wait for its output, or start it in the background (202)",
    schema: { params: CapsuleParams, body: ExecRequest, response: { 200: ExecResponse, 202: BackgroundExecResponse } },
    errors: [404, 409, ...AGENT],
  },
  getCapsuleMetrics: {
    method: "GET",
    url: "/v1/capsules/:id/metrics",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "CPU, memory and disk samples of a running or paused capsule",
    schema: { params: CapsuleParams, querystring: CapsuleMetricsQuery, response: { 200: CapsuleMetrics } },
    errors: [404, ...AGENT],
  },
  listProcesses: {
    method: "GET",
    url: "/v1/capsules/:id/processes",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Processes started through the API (and by templates) that still run",
    schema: { params: CapsuleParams, response: { 200: ProcessList } },
    errors: [404, 409, ...AGENT],
  },
  killProcess: {
    method: "DELETE",
    url: "/v1/capsules/:id/processes/:selector",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Signal a process by PID or tag (SIGKILL by default)",
    schema: { params: ProcessParams, querystring: KillProcessQuery, response: { 204: NoContent } },
    errors: [404, 409, ...AGENT],
  },
  execStream: {
    method: "GET",
    url: "/v1/capsules/:id/exec/stream",
    auth: "ws_optional",
    tags: ["capsules"],
    summary: "WebSocket: run a command and stream its output",
    schema: { params: CapsuleParams, response: { 101: Upgrade } },
    websocket: { client: ExecStreamClientMessage, server: ExecStreamServerMessage },
  },
  ptySession: {
    method: "GET",
    url: "/v1/capsules/:id/pty",
    auth: "ws_optional",
    tags: ["capsules"],
    summary: "WebSocket: an interactive terminal that survives disconnects",
    schema: { params: CapsuleParams, response: { 101: Upgrade } },
    websocket: { client: PtyClientMessage, server: PtyServerMessage },
  },
  connectProcess: {
    method: "GET",
    url: "/v1/capsules/:id/processes/:selector/stream",
    auth: "ws_optional",
    tags: ["capsules"],
    summary: "WebSocket: stream the output of a running process",
    schema: { params: ProcessParams, response: { 101: Upgrade } },
    websocket: { client: ProcessStreamClientMessage, server: ProcessStreamServerMessage },
  },
} as const satisfies Readonly<Record<string, RouteDefinition>>;

/** Team capsule routes. */
export const capsuleRoutes = defineRoutes({
  createCapsule: {
    method: "POST",
    url: "/v1/capsules",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Create a capsule and wait until it runs",
    schema: { body: CreateCapsuleRequest, response: { 201: Capsule } },
    errors: [404, ...AGENT],
  },
  listCapsules: {
    method: "GET",
    url: "/v1/capsules",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "The team's capsules that are not stopped or failed, newest first",
    schema: { response: { 200: Type.Array(Capsule) } },
  },
  getCapsuleStats: {
    method: "GET",
    url: "/v1/capsules/stats",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Running capsules and reserved resources of the team over time",
    schema: { querystring: CapsuleStatsQuery, response: { 200: CapsuleStats } },
  },
  getCapsuleUsage: {
    method: "GET",
    url: "/v1/capsules/usage",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Daily CPU and memory minutes of the team (at most 92 days)",
    schema: { querystring: CapsuleUsageQuery, response: { 200: CapsuleUsage } },
  },
  ...capsuleDefinitions,
  pingCapsule: {
    method: "POST",
    url: "/v1/capsules/:id/ping",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Reset the capsule's inactivity timer",
    schema: { params: CapsuleParams, response: { 204: NoContent } },
    errors: [404, 409, ...AGENT],
  },
  pauseCapsule: {
    method: "POST",
    url: "/v1/capsules/:id/pause",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Pause a running capsule (snapshot its memory and release its resources)",
    schema: { params: CapsuleParams, response: { 200: Capsule } },
    errors: [404, 409, ...AGENT],
  },
  resumeCapsule: {
    method: "POST",
    url: "/v1/capsules/:id/resume",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Resume a paused capsule on its host",
    schema: { params: CapsuleParams, response: { 200: Capsule } },
    errors: [404, 409, ...AGENT],
  },
});
