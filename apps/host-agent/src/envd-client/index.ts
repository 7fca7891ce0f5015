/** Host-side clients of a capsule's envd (timeout and streaming pools). */

export { EnvdAgents, type EnvdPoolOptions, type PoolCounts } from "./envd-agents.js";
export { ENVD_SHORT_CALL_TIMEOUT_MS, EnvdClient, type EnvdClientOptions, EnvdHttpError } from "./envd-client.js";
