import type { PtyClientMessage, Static } from "@wrenn/api-schema";
import type { FastifyRequest } from "fastify";
import { newPtyTag } from "../../ids/generators.js";
import type { ProcessStreamDeps } from "./process-events.ws.js";
import { PtyInputPump } from "./pty-input-pump.js";
import { authenticateWs } from "./ws-auth.js";
import { wsErrorMessage } from "./ws-errors.js";
import type { WsSession } from "./ws-session.js";

type PtyMessage = Static<typeof PtyClientMessage>;

/** Interval of the server's `{"type":"ping"}` (keeps proxies from closing idle terminals). */
export const PTY_PING_INTERVAL_MS = 30_000;

/**
 * `/v1/capsules/{id}/pty`: an interactive terminal. The first message starts
 * a PTY process (`start`, server-generated tag) or reattaches to one
 * (`connect`): the process outlives the socket, so a dropped connection is
 * resumed with its tag. Output streams as base64; input goes through a
 * {@link PtyInputPump} (never blocks reading the socket, joins keystrokes).
 * Unlike the reference, a reattach also gets `started` (Appendix B.10).
 */
export async function runPtySession(
  deps: ProcessStreamDeps & { readonly pingIntervalMs?: number },
  session: WsSession<PtyMessage>,
  request: FastifyRequest<{ Params: { id: string } }>,
): Promise<void> {
  const send = (m: unknown) => session.send(m);
  const principal = await authenticateWs(request, session, deps.auth, (data) =>
    send({ type: "error", data, fatal: true }),
  );
  if (principal === undefined) return;
  const id = request.params.id;
  const ping = setInterval(() => void send({ type: "ping" }), deps.pingIntervalMs ?? PTY_PING_INTERVAL_MS);
  let pump: PtyInputPump | undefined;
  try {
    const capsule = await deps.access.findIn(principal.teamId, id, ["running"]);
    const agent = await deps.access.agent(capsule);
    const first = await session.next();
    if (first === undefined) return;
    if (!first.ok || (first.message.type !== "start" && first.message.type !== "connect")) {
      const data = first.ok
        ? 'the first message must be {"type":"start"} or {"type":"connect","tag":...}'
        : first.error;
      await send({ type: "error", data, fatal: true });
      return session.close(1008, "bad first message");
    }
    const start = first.message;
    const tag = start.type === "connect" ? start.tag : newPtyTag();
    const stream = agent.ptyAttach(
      start.type === "start"
        ? {
            sandboxId: id,
            tag,
            cmd: start.cmd ?? "/bin/bash",
            args: start.args ?? [],
            cols: start.cols ?? 80,
            rows: start.rows ?? 24,
            envs: start.envs ?? {},
            cwd: start.cwd ?? "",
            user: start.user ?? "",
          }
        : { sandboxId: id, tag, cmd: "", args: [], cols: 0, rows: 0, envs: {}, cwd: "", user: "" },
      { signal: session.closed },
    );
    if (start.type === "connect") {
      const { processes } = await agent.listProcesses({ sandboxId: id }, { signal: AbortSignal.timeout(30_000) });
      const found = processes.find((p) => p.tag === tag);
      if (found === undefined) {
        await send({ type: "error", data: `no terminal with tag ${tag}`, fatal: true });
        return session.close(1008, "unknown tag");
      }
      await send({ type: "started", tag, pid: found.pid });
    }

    pump = new PtyInputPump({
      sink: {
        input: async (data, signal) => void (await agent.ptySendInput({ sandboxId: id, tag, data }, { signal })),
        resize: async (cols, rows, signal) =>
          void (await agent.ptyResize({ sandboxId: id, tag, cols, rows }, { signal })),
        kill: async (signal) => void (await agent.ptyKill({ sandboxId: id, tag }, { signal })),
      },
      onBackpressure: (paused) => (paused ? session.socket.pause() : session.socket.resume()),
      onError: (err) => void send({ type: "error", data: wsErrorMessage(err), fatal: false }),
    });
    const inputs = pump;
    void (async () => {
      for (let m = await session.next(); m !== undefined; m = await session.next()) {
        if (!m.ok) {
          await send({ type: "error", data: m.error, fatal: false });
          continue;
        }
        const msg = m.message;
        if (msg.type === "input") inputs.push({ type: "input", data: Buffer.from(msg.data, "base64") });
        else if (msg.type === "resize" && msg.cols > 0 && msg.rows > 0) {
          inputs.push({ type: "resize", cols: msg.cols, rows: msg.rows });
        } else if (msg.type === "kill") inputs.push({ type: "kill" });
      }
    })();

    for await (const e of stream) {
      const ev = e.event;
      if (ev.case === "started") await send({ type: "started", tag: ev.value.tag || tag, pid: ev.value.pid });
      else if (ev.case === "output")
        await send({ type: "output", data: Buffer.from(ev.value.data).toString("base64") });
      else if (ev.case === "exited") {
        await send({ type: "exit", exit_code: ev.value.exitCode });
        break;
      }
    }
    await deps.capsules.touchLastActive(capsule.id);
    session.close(1000, "exited");
  } catch (err) {
    if (session.closed.aborted) return;
    await send({ type: "error", data: wsErrorMessage(err), fatal: true });
    session.close(1011, "error");
  } finally {
    clearInterval(ping);
    pump?.close();
  }
}
