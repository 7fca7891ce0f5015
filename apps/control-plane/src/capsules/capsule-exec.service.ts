import type { BackgroundExecResponse, ExecRequest, ExecResponse, ProcessList, Static } from "@wrenn/api-schema";
import { agentErrorToApi } from "../hosts/agent-errors.js";
import { invalidRequest } from "../http/api-error.js";
import type { Principal } from "../http/auth.js";
import { newProcessTag } from "../ids/generators.js";
import type { CapsuleAccess } from "./capsule-access.js";
import type { Capsule, CapsulesRepo } from "./capsules.repo.js";

/** Foreground exec timeout when the caller gives none (or 0), as in the reference. */
export const DEFAULT_EXEC_TIMEOUT_SEC = 30;

/**
 * `last_active_at` is rewritten at most this often per capsule by exec. The column is
 * informational (the agent's own clock drives auto-pause), and one UPDATE per exec was a
 * fifth of the control plane's work on a tight exec loop.
 */
export const LAST_ACTIVE_RESOLUTION_MS = 2000;

/** What the exec service needs. */
export interface CapsuleExecDeps {
  readonly access: CapsuleAccess;
  readonly capsules: CapsulesRepo;
  /** @default Date.now */
  readonly now?: () => number;
}

type ExecOutcome =
  | { readonly status: 200; readonly body: Static<typeof ExecResponse> }
  | { readonly status: 202; readonly body: Static<typeof BackgroundExecResponse> };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Both streams as text when both are valid UTF-8, else both base64 (the reference's rule). */
export function encodeOutput(stdout: Uint8Array, stderr: Uint8Array) {
  try {
    return { stdout: utf8.decode(stdout), stderr: utf8.decode(stderr), encoding: "utf-8" as const };
  } catch {
    return {
      stdout: Buffer.from(stdout).toString("base64"),
      stderr: Buffer.from(stderr).toString("base64"),
      encoding: "base64" as const,
    };
  }
}

/** A process selector from the URL: a PID (digits) or a tag. */
export function parseSelector(selector: string): { case: "pid"; value: number } | { case: "tag"; value: string } {
  if (/^\d+$/.test(selector)) {
    const pid = Number(selector);
    if (!Number.isSafeInteger(pid) || pid < 1 || pid > 0xffffffff) throw invalidRequest("invalid process id");
    return { case: "pid", value: pid };
  }
  return { case: "tag", value: selector };
}

/** Commands and processes of running capsules. */
export function createCapsuleExecService(deps: CapsuleExecDeps) {
  const { access } = deps;
  const now = deps.now ?? Date.now;
  /**
   * Records activity unless the row read for this request is already recent enough. A
   * negative age (database clock ahead of ours) always writes: skew only disables the saving.
   */
  const touch = async (capsule: Capsule): Promise<void> => {
    const age = capsule.lastActiveAt === null ? Number.NaN : now() - capsule.lastActiveAt.getTime();
    if (age >= 0 && age < LAST_ACTIVE_RESOLUTION_MS) return;
    await deps.capsules.touchLastActive(capsule.id);
  };

  return {
    /**
     * Foreground: runs to completion (or its timeout) and returns the output;
     * `envs` and `cwd` are honoured (Appendix B.6 fixed). Background: starts
     * the process and returns its PID and tag at once (202).
     */
    async exec(principal: Principal, id: string, body: Static<typeof ExecRequest>): Promise<ExecOutcome> {
      const { capsule, agent } = await access.findWithAgent(principal.teamId, id, ["running"]);
      const args = body.args ?? [];
      try {
        if (body.background === true) {
          const tag = body.tag ?? newProcessTag();
          const started = await agent.startBackground(
            { sandboxId: id, cmd: body.cmd, args, tag, envs: body.envs ?? {}, cwd: body.cwd ?? "" },
            { signal: AbortSignal.timeout(60_000) },
          );
          await touch(capsule);
          return { status: 202, body: { sandbox_id: id, cmd: body.cmd, pid: started.pid, tag: started.tag || tag } };
        }
        const timeoutSec = body.timeout_sec || DEFAULT_EXEC_TIMEOUT_SEC;
        const started = performance.now();
        const result = await agent.exec(
          { sandboxId: id, cmd: body.cmd, args, timeoutSec, envs: body.envs ?? {}, cwd: body.cwd ?? "" },
          // The agent enforces the command's timeout; this only guards against a lost agent.
          { signal: AbortSignal.timeout((timeoutSec + 30) * 1000) },
        );
        await touch(capsule);
        return {
          status: 200,
          body: {
            sandbox_id: id,
            cmd: body.cmd,
            ...encodeOutput(result.stdout, result.stderr),
            exit_code: result.exitCode,
            duration_ms: Math.round(performance.now() - started),
          },
        };
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    async listProcesses(principal: Principal, id: string): Promise<Static<typeof ProcessList>> {
      const { agent } = await access.findWithAgent(principal.teamId, id, ["running"]);
      try {
        const { processes } = await agent.listProcesses({ sandboxId: id }, { signal: AbortSignal.timeout(30_000) });
        return {
          processes: processes.map((p) => ({
            pid: p.pid,
            ...(p.tag ? { tag: p.tag } : {}),
            cmd: p.cmd,
            ...(p.args.length > 0 ? { args: p.args } : {}),
          })),
        };
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    async killProcess(
      principal: Principal,
      id: string,
      selector: string,
      signal: "SIGTERM" | "SIGKILL",
    ): Promise<void> {
      const { agent } = await access.findWithAgent(principal.teamId, id, ["running"]);
      try {
        await agent.killProcess(
          { sandboxId: id, selector: parseSelector(selector), signal },
          { signal: AbortSignal.timeout(30_000) },
        );
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },
  };
}

/** The service {@link createCapsuleExecService} builds. */
export type CapsuleExecService = ReturnType<typeof createCapsuleExecService>;
