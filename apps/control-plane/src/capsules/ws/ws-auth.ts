import type { FastifyRequest } from "fastify";
import type { Authenticator, Principal } from "../../http/auth.js";
import { toApiError } from "../../http/error-handler.js";
import type { WsSession } from "./ws-session.js";

/** How long a client has to send `{"type":"auth"}` when the upgrade carried no credentials. */
export const WS_AUTH_TIMEOUT_MS = 5000;

/**
 * The principal of a WebSocket: from the upgrade's headers when they were
 * valid, else from a first `{"type":"auth","token":"<JWT>"}` message within
 * 5 s (API keys must come in the header). On failure the client gets an
 * error message and the socket closes with 1008; returns undefined.
 */
export async function authenticateWs<T extends { type: string }>(
  request: FastifyRequest,
  session: WsSession<T>,
  auth: Authenticator,
  sendError: (message: string) => Promise<void>,
): Promise<Principal | undefined> {
  if (request.principal !== undefined) return request.principal;
  const first = await session.next(WS_AUTH_TIMEOUT_MS);
  if (first === undefined) return undefined;
  if (!first.ok || first.message.type !== "auth") {
    await sendError(first.ok ? 'authenticate first: send {"type":"auth","token":"<JWT>"}' : first.error);
    session.close(1008, "unauthenticated");
    return undefined;
  }
  try {
    return await auth.wsToken((first.message as unknown as { token: unknown }).token);
  } catch (err) {
    await sendError(toApiError(err).message);
    session.close(1008, "unauthenticated");
    return undefined;
  }
}
