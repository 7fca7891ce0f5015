import { ConnectError } from "@connectrpc/connect";
import { agentErrorToApi } from "../../hosts/agent-errors.js";
import { toApiError } from "../../http/error-handler.js";

/** The message a WebSocket client is told for a failure: agent errors as the REST API maps them, internals never. */
export function wsErrorMessage(err: unknown): string {
  return (err instanceof ConnectError ? agentErrorToApi(err) : toApiError(err)).message;
}
