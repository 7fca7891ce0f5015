/** hostagent.v1 Connect service. */

export { toConnectError } from "./errors.js";
export { createHostAgentService, type HostAgentDeps } from "./hostagent-service.js";
