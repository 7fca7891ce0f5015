import type { Logger } from "@wrenn/kit";
import type { AuditSink } from "../audit/audit-sink.js";
import { agentErrorToApi, isAgentNotFound } from "../hosts/agent-errors.js";
import type { HostAgentClient } from "../hosts/host-client-pool.js";
import type { HostsRepo } from "../hosts/hosts.repo.js";
import { pickHost } from "../hosts/scheduler.js";
import { notFound } from "../http/api-error.js";
import { actorOf, type Principal } from "../http/auth.js";
import { PLATFORM_TEAM_ID, toPublicId } from "../ids/public-id.js";
import type { TeamsRepo } from "../teams/teams.repo.js";
import type { TemplatesRepo } from "../templates/templates.repo.js";
import type { CapsuleAccess } from "./capsule-access.js";
import { type CapsuleJson, toCapsuleJson } from "./capsule-json.js";
import { ACTIVE_CAPSULE_STATUSES, type Capsule, type CapsulesRepo } from "./capsules.repo.js";
import type { EnvdTokens } from "./envd-token.js";

/** Disk of every capsule, in MB (not exposed by the API, as in the reference). */
export const CAPSULE_DISK_MB = 5120;
/** Deadline of lifecycle RPCs (boot, restore, pause). Unrelated to the caller's connection. */
const LIFECYCLE_TIMEOUT_MS = 5 * 60_000;

/** What the capsule service needs. */
export interface CapsuleServiceDeps {
  readonly capsules: CapsulesRepo;
  readonly templates: TemplatesRepo;
  readonly teams: TeamsRepo;
  readonly hosts: HostsRepo;
  readonly access: CapsuleAccess;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** Called when a capsule stops being reachable (destroy, pause): the proxy forgets its target. */
  readonly onUnreachable?: (publicId: string) => void;
  /** Persists the agent's metric rings before pause and destroy (never throws). */
  readonly metrics?: CapsuleMetricsHooks;
  /** The envd access token of each capsule, given to the agent at create and resume. */
  readonly envdTokens: EnvdTokens;
}

/** Called before the agent forgets a capsule's metrics; implementations swallow their own errors. */
export interface CapsuleMetricsHooks {
  beforePause(capsule: Capsule, agent: HostAgentClient): Promise<void>;
  beforeDestroy(capsule: Capsule): Promise<void>;
}

/** `POST /v1/capsules` input, defaults already applied by the schema. */
export interface CreateCapsuleInput {
  readonly template?: string | undefined;
  readonly vcpus?: number | undefined;
  readonly memory_mb?: number | undefined;
  readonly timeout_sec?: number | undefined;
}

/**
 * Capsule lifecycle over the host agents (inventory §1.5, §5.1). Lifecycle
 * RPCs run under their own deadline, not the HTTP request's: a client that
 * hangs up mid-create must not leave a half-created capsule behind.
 */
export function createCapsuleService(deps: CapsuleServiceDeps) {
  const { capsules, access } = deps;
  const lifecycleSignal = () => AbortSignal.timeout(LIFECYCLE_TIMEOUT_MS);

  return {
    async create(principal: Principal, input: CreateCapsuleInput): Promise<CapsuleJson> {
      const templateName = input.template ?? "minimal";
      const template = await deps.templates.getForTeam(principal.teamId, templateName);
      if (template === undefined) throw notFound(`template "${templateName}" not found`);
      const snapshot = template.type === "snapshot";
      const vcpus = snapshot ? template.vcpus : (input.vcpus ?? 1);
      const memoryMb = snapshot ? template.memoryMb : (input.memory_mb ?? 512);
      const timeoutSec = input.timeout_sec ?? 0;
      const team = await deps.teams.getById(principal.teamId);
      if (team === undefined) throw notFound("team not found");

      // A snapshot lives on the disk of the host that took it: only that host can start it.
      const pinnedHost = template.metadata["host_id"];
      const candidates = (await deps.hosts.listWithLoad()).filter(
        (h) => pinnedHost === undefined || h.id === pinnedHost,
      );
      const host = pickHost(candidates, {
        teamId: team.id,
        isByoc: team.isByoc,
        memoryMb,
        diskMb: CAPSULE_DISK_MB,
      });
      const row = await capsules.insertPending({
        teamId: team.id,
        hostId: host.id,
        template: templateName,
        templateId: template.id,
        templateTeamId: template.teamId,
        vcpus,
        memoryMb,
        timeoutSec,
        diskSizeMb: CAPSULE_DISK_MB,
      });
      const publicId = toPublicId("capsule", row.id);
      const log = deps.log.child({ sandboxId: publicId, hostId: host.id });
      try {
        const agent = await access.agent(row);
        const created = await agent.createSandbox(
          {
            sandboxId: publicId,
            template: templateName,
            templateName,
            templateId: template.id,
            teamId: template.teamId,
            vcpus,
            memoryMb,
            timeoutSec,
            diskSizeMb: CAPSULE_DISK_MB,
            defaultUser: template.defaultUser,
            defaultEnv: template.defaultEnv,
            envdAccessToken: deps.envdTokens.forCapsule(publicId),
          },
          { signal: lifecycleSignal() },
        );
        const running = await capsules.markRunning(row.id, { hostIp: created.hostIp, metadata: created.metadata });
        deps.audit.record({
          teamId: team.id,
          actor: actorOf(principal),
          resourceType: "sandbox",
          resourceId: publicId,
          action: "create",
          metadata: { template: templateName },
        });
        log.info({ template: templateName }, "capsule created");
        return toCapsuleJson(running ?? row);
      } catch (err) {
        log.warn({ err }, "capsule creation failed");
        await capsules.setStatus(row.id, "error");
        // The agent may have got far enough to hold resources: tell it to let go.
        await destroyOnAgent(row, true).catch(() => undefined);
        throw agentErrorToApi(err);
      }
    },

    async list(teamId: string): Promise<CapsuleJson[]> {
      return (await capsules.listForTeam(teamId)).map(toCapsuleJson);
    },

    async get(teamId: string, id: string): Promise<CapsuleJson> {
      return toCapsuleJson(await access.find(teamId, id));
    },

    /** Idempotent: destroying a stopped capsule is a no-op. */
    async destroy(principal: Principal, id: string): Promise<void> {
      const capsule = await access.find(principal.teamId, id);
      if (!ACTIVE_CAPSULE_STATUSES.includes(capsule.status)) return;
      await deps.metrics?.beforeDestroy(capsule);
      await destroyOnAgent(capsule, capsule.status === "missing");
      await capsules.setStatus(capsule.id, "stopped");
      deps.onUnreachable?.(id);
      deps.audit.record({
        teamId: capsule.teamId,
        actor: actorOf(principal),
        resourceType: "sandbox",
        resourceId: id,
        action: "destroy",
        status: "warning",
      });
    },

    async pause(principal: Principal, id: string): Promise<CapsuleJson> {
      const capsule = await access.findIn(principal.teamId, id, ["running"]);
      // Marked first so the host monitor, seeing the capsule gone from the
      // agent's running list mid-pause, does not call it stopped.
      if (!(await capsules.transition(capsule.id, ["running"], "paused"))) {
        throw agentErrorToApi(new Error("capsule changed state during pause"));
      }
      deps.onUnreachable?.(id);
      try {
        const agent = await access.agent(capsule);
        await deps.metrics?.beforePause(capsule, agent);
        await agent.pauseSandbox({ sandboxId: id }, { signal: lifecycleSignal() });
      } catch (err) {
        await capsules.transition(capsule.id, ["paused"], "running");
        throw agentErrorToApi(err);
      }
      deps.audit.record({
        teamId: capsule.teamId,
        actor: actorOf(principal),
        resourceType: "sandbox",
        resourceId: id,
        action: "pause",
      });
      return toCapsuleJson((await capsules.getById(capsule.id)) ?? capsule);
    },

    async resume(principal: Principal, id: string): Promise<CapsuleJson> {
      const capsule = await access.findIn(principal.teamId, id, ["paused"]);
      const template = capsule.templateId ? await deps.templates.getById(capsule.templateId) : undefined;
      const agent = await access.agent(capsule);
      let resumed: { hostIp: string; metadata: Record<string, string> };
      try {
        resumed = await agent.resumeSandbox(
          {
            sandboxId: id,
            timeoutSec: capsule.timeoutSec,
            defaultUser: template?.defaultUser ?? "",
            defaultEnv: template?.defaultEnv ?? {},
            kernelVersion: capsule.metadata["kernel_version"] ?? "",
            envdAccessToken: deps.envdTokens.forCapsule(id),
          },
          { signal: lifecycleSignal() },
        );
      } catch (err) {
        throw agentErrorToApi(err);
      }
      const metadata = { ...capsule.metadata, ...resumed.metadata };
      const running = await capsules.markRunning(capsule.id, { hostIp: resumed.hostIp, metadata });
      deps.audit.record({
        teamId: capsule.teamId,
        actor: actorOf(principal),
        resourceType: "sandbox",
        resourceId: id,
        action: "resume",
      });
      return toCapsuleJson(running ?? capsule);
    },

    /**
     * Destroys every active capsule of a team (team deletion, user disable).
     * Capsules on unreachable hosts are marked stopped all the same; the host
     * monitor destroys orphans when their host returns.
     */
    async destroyAllForTeam(teamId: string): Promise<void> {
      for (const capsule of await capsules.listActiveForTeam(teamId)) {
        await destroyOnAgent(capsule, true).catch((err: unknown) =>
          deps.log.warn({ err, sandboxId: toPublicId("capsule", capsule.id) }, "destroying a team capsule failed"),
        );
        await capsules.setStatus(capsule.id, "stopped");
        deps.onUnreachable?.(toPublicId("capsule", capsule.id));
      }
    },

    /** Resets the capsule's inactivity timer. */
    async ping(principal: Principal, id: string): Promise<void> {
      const capsule = await access.findIn(principal.teamId, id, ["running"]);
      const agent = await access.agent(capsule);
      try {
        await agent.pingSandbox({ sandboxId: id }, { signal: AbortSignal.timeout(30_000) });
      } catch (err) {
        throw agentErrorToApi(err);
      }
      await capsules.touchLastActive(capsule.id);
    },
  };

  /**
   * Tells the agent to destroy a capsule. NotFound means it is already gone.
   * With `tolerateUnreachable`, an unreachable host is accepted too (the host
   * monitor destroys orphans when the host comes back).
   */
  async function destroyOnAgent(
    capsule: Awaited<ReturnType<CapsuleAccess["find"]>>,
    tolerateUnreachable: boolean,
  ): Promise<void> {
    const publicId = toPublicId("capsule", capsule.id);
    try {
      const agent = await access.agent(capsule);
      await agent.destroySandbox({ sandboxId: publicId }, { signal: lifecycleSignal() });
    } catch (err) {
      if (isAgentNotFound(err)) return;
      const mapped = agentErrorToApi(err);
      if (tolerateUnreachable && mapped.status === 503) return;
      throw mapped;
    }
  }
}

/** The service {@link createCapsuleService} builds. */
export type CapsuleService = ReturnType<typeof createCapsuleService>;

/** The platform team's id, for admin capsule routes. */
export { PLATFORM_TEAM_ID };
