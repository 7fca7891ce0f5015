import type { Static, Template as TemplateSchema } from "@wrenn/api-schema";
import type { Logger } from "@wrenn/kit";
import type { AuditSink } from "../audit/audit-sink.js";
import type { CapsuleAccess } from "../capsules/capsule-access.js";
import type { CapsulesRepo } from "../capsules/capsules.repo.js";
import { agentErrorToApi } from "../hosts/agent-errors.js";
import type { HostClientPool } from "../hosts/host-client-pool.js";
import type { HostsRepo } from "../hosts/hosts.repo.js";
import { ApiError, forbidden, notFound } from "../http/api-error.js";
import { actorOf, type Principal } from "../http/auth.js";
import { newSnapshotName } from "../ids/generators.js";
import { newUuid, PLATFORM_TEAM_ID, toPublicId } from "../ids/public-id.js";
import type { Template, TemplatesRepo, TemplateType } from "../templates/templates.repo.js";

/** Template metadata key naming the host whose disk holds a snapshot template. */
export const TEMPLATE_HOST_KEY = "host_id";

/** What the snapshot service needs. */
export interface SnapshotServiceDeps {
  readonly templates: TemplatesRepo;
  readonly capsules: CapsulesRepo;
  readonly hosts: HostsRepo;
  readonly access: CapsuleAccess;
  readonly pool: HostClientPool;
  readonly audit: AuditSink;
  readonly log: Logger;
}

/** A template in the API's shape. */
export function toTemplateJson(t: Template): Static<typeof TemplateSchema> {
  const { [TEMPLATE_HOST_KEY]: _host, ...metadata } = t.metadata;
  return {
    name: t.name,
    type: t.type,
    vcpus: t.vcpus,
    memory_mb: t.memoryMb,
    size_bytes: t.sizeBytes,
    created_at: t.createdAt.toISOString(),
    platform: t.teamId === PLATFORM_TEAM_ID,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/**
 * Snapshots of capsules as team templates (inventory §5.4 "Snapshot →
 * template"). A snapshot lives on the disk of the host that took it: the
 * template records that host and capsules made from it are placed there.
 */
export function createSnapshotService(deps: SnapshotServiceDeps) {
  /** Tells every online host to forget a template (best effort: a host that is down cleans up at its next start). */
  async function broadcastDelete(template: Template): Promise<void> {
    const hosts = await deps.hosts.listActive();
    await Promise.all(
      hosts
        .filter((h) => h.status === "online" && h.address !== "")
        .map((h) =>
          deps.pool
            .client({ id: h.id, address: h.address })
            .deleteSnapshot(
              { name: template.name, teamId: template.teamId, templateId: template.id },
              { signal: AbortSignal.timeout(60_000) },
            )
            .catch((err: unknown) => deps.log.warn({ err, hostId: h.id }, "template delete on host failed")),
        ),
    );
  }

  return {
    async create(
      principal: Principal,
      input: { sandbox_id: string; name?: string | undefined },
      overwrite: boolean,
    ): Promise<Static<typeof TemplateSchema>> {
      const name = input.name ?? newSnapshotName();
      if ((await deps.templates.getPlatformByName(name)) !== undefined) {
        throw new ApiError(409, "name_reserved", `"${name}" is the name of a platform template`);
      }
      const capsule = await deps.access.findIn(principal.teamId, input.sandbox_id, ["running", "paused"]);
      const existing = (await deps.templates.listTeamOnly(principal.teamId)).find((t) => t.name === name);
      if (existing !== undefined && !overwrite) {
        throw new ApiError(409, "template_name_taken", `the team already has a template named "${name}"`);
      }
      const agent = await deps.access.agent(capsule);
      const templateId = newUuid();
      let made: { sizeBytes: bigint; mode: string };
      try {
        made = await agent.createSnapshot(
          { sandboxId: input.sandbox_id, name, teamId: principal.teamId, templateId },
          { signal: AbortSignal.timeout(10 * 60_000) },
        );
      } catch (err) {
        throw agentErrorToApi(err);
      }
      // The agent pauses a running capsule to take the snapshot; it stays paused.
      await deps.capsules.transition(capsule.id, ["running"], "paused");
      if (existing !== undefined) {
        await deps.templates.deleteForTeam(principal.teamId, name);
        await broadcastDelete(existing);
      }
      const template = await deps.templates.insert({
        id: templateId,
        teamId: principal.teamId,
        name,
        type: "snapshot",
        vcpus: capsule.vcpus,
        memoryMb: capsule.memoryMb,
        sizeBytes: Number(made.sizeBytes),
        metadata: {
          ...capsule.metadata,
          ...(made.mode ? { snapshot_mode: made.mode } : {}),
          [TEMPLATE_HOST_KEY]: capsule.hostId,
        },
      });
      deps.audit.record({
        teamId: principal.teamId,
        actor: actorOf(principal),
        resourceType: "snapshot",
        resourceId: name,
        action: "create",
        metadata: { sandbox_id: toPublicId("capsule", capsule.id) },
      });
      return toTemplateJson(template);
    },

    async list(teamId: string, type: TemplateType | undefined): Promise<Static<typeof TemplateSchema>[]> {
      return (await deps.templates.listForTeam(teamId, type)).map(toTemplateJson);
    },

    async delete(principal: Principal, name: string): Promise<void> {
      if ((await deps.templates.getPlatformByName(name)) !== undefined) {
        throw forbidden("platform templates cannot be deleted by a team");
      }
      const deleted = await deps.templates.deleteForTeam(principal.teamId, name);
      if (deleted === undefined) throw notFound(`template "${name}" not found`);
      await broadcastDelete(deleted);
      deps.audit.record({
        teamId: principal.teamId,
        actor: actorOf(principal),
        resourceType: "snapshot",
        resourceId: name,
        action: "delete",
        status: "warning",
      });
    },
  };
}

/** The service {@link createSnapshotService} builds. */
export type SnapshotService = ReturnType<typeof createSnapshotService>;
