import type { ExecStreamClientMessage, ProcessStreamClientMessage, Static } from "@wrenn/api-schema";
import type { ExecStreamResponse } from "@wrenn/protocol/hostagent/v1";
import type { FastifyRequest } from "fastify";
import type { Authenticator } from "../../http/auth.js";
import type { CapsuleAccess } from "../capsule-access.js";
import { parseSelector } from "../capsule-exec.service.js";
import type { CapsulesRepo } from "../capsules.repo.js";
import { authenticateWs } from "./ws-auth.js";
import { wsErrorMessage } from "./ws-errors.js";
import type { WsSession } from "./ws-session.js";

/** What the exec-stream and process-stream sockets need. */
export interface ProcessStreamDeps {
  readonly auth: Authenticator;
  readonly access: CapsuleAccess;
  readonly capsules: CapsulesRepo;
}

type EventSession = WsSession<{ type: string }>;

/** Relays agent process events as the reference's JSON messages; resolves at the end event. */
async function relay(session: EventSession, events: AsyncIterable<ExecStreamResponse>): Promise<void> {
  for await (const e of events) {
    const ev = e.event;
    if (ev.case === "start") await session.send({ type: "start", pid: ev.value.pid });
    else if (ev.case === "data") {
      const out = ev.value.output;
      if (out.case === "stdout") await session.send({ type: "stdout", data: Buffer.from(out.value).toString() });
      else if (out.case === "stderr") await session.send({ type: "stderr", data: Buffer.from(out.value).toString() });
    } else if (ev.case === "end") {
      if (ev.value.error) await session.send({ type: "error", data: ev.value.error });
      await session.send({ type: "exit", exit_code: ev.value.exitCode });
      return;
    }
  }
}

const sendError = (session: EventSession) => (message: string) => session.send({ type: "error", data: message });

/**
 * `/v1/capsules/{id}/exec/stream`: the first message (after auth) starts a
 * command; its output streams back until it exits; `{"type":"stop"}` or
 * closing the socket stops it.
 */
export async function runExecStream(
  deps: ProcessStreamDeps,
  session: WsSession<Static<typeof ExecStreamClientMessage>>,
  request: FastifyRequest<{ Params: { id: string } }>,
): Promise<void> {
  const s = session as unknown as EventSession;
  const principal = await authenticateWs(request, session, deps.auth, sendError(s));
  if (principal === undefined) return;
  const id = request.params.id;
  try {
    const capsule = await deps.access.findIn(principal.teamId, id, ["running"]);
    const agent = await deps.access.agent(capsule);
    const start = await session.next();
    if (start === undefined) return;
    if (!start.ok || start.message.type !== "start") {
      await s.send({ type: "error", data: start.ok ? 'the first message must be {"type":"start",...}' : start.error });
      return session.close(1008, "bad start message");
    }
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, session.closed]);
    void (async () => {
      for (let m = await session.next(); m !== undefined; m = await session.next()) {
        if (m.ok && m.message.type === "stop") stop.abort();
      }
    })();
    const { cmd, args, envs, cwd } = start.message;
    await relay(
      s,
      agent.execStream(
        { sandboxId: id, cmd, args: args ?? [], envs: envs ?? {}, cwd: cwd ?? "", timeoutSec: 0 },
        { signal },
      ),
    );
    await deps.capsules.touchLastActive(capsule.id);
    session.close(1000, "exited");
  } catch (err) {
    if (session.closed.aborted) return;
    await s.send({ type: "error", data: wsErrorMessage(err) });
    session.close(1011, "error");
  }
}

/** `/v1/capsules/{id}/processes/{selector}/stream`: attach to a running process's output. */
export async function runProcessStream(
  deps: ProcessStreamDeps,
  session: WsSession<Static<typeof ProcessStreamClientMessage>>,
  request: FastifyRequest<{ Params: { id: string; selector: string } }>,
): Promise<void> {
  const s = session as unknown as EventSession;
  const principal = await authenticateWs(request, session, deps.auth, sendError(s));
  if (principal === undefined) return;
  const { id, selector } = request.params;
  try {
    const capsule = await deps.access.findIn(principal.teamId, id, ["running"]);
    const agent = await deps.access.agent(capsule);
    await relay(
      s,
      agent.connectProcess({ sandboxId: id, selector: parseSelector(selector) }, { signal: session.closed }),
    );
    session.close(1000, "exited");
  } catch (err) {
    if (session.closed.aborted) return;
    await s.send({ type: "error", data: wsErrorMessage(err) });
    session.close(1011, "error");
  }
}
