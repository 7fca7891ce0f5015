/**
 * Deleting a host (inventory §2.2 `DELETE /v1/hosts/{id}`): refused while
 * capsules are active on it unless forced; forced, its capsules are
 * destroyed through the agent, the agent is told to terminate, and the
 * capsules, credentials and row are cleaned up in one transaction.
 */
import type { Logger } from "@wrenn/kit";
import type { AuditActor, AuditSink } from "../audit/audit-sink.js";
import { ACTIVE_CAPSULE_STATUSES, type CapsulesRepo, createCapsulesRepo } from "../capsules/capsules.repo.js";
import type { Database } from "../db/database.js";
import { ApiError } from "../http/api-error.js";
import { PLATFORM_TEAM_ID, toPublicId } from "../ids/public-id.js";
import { createTokensRepo } from "../tokens/tokens.repo.js";
import { isAgentNotFound } from "./agent-errors.js";
import type { HostClientPool } from "./host-client-pool.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo, type Host } from "./hosts.repo.js";

/** What host deletion needs. */
export interface HostDeletionDeps {
  readonly db: Database;
  readonly capsules: CapsulesRepo;
  readonly pool: HostClientPool;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** Called for each capsule stopped by a forced delete (the port proxy forgets its target). */
  readonly onCapsuleGone?: (publicId: string) => void;
  /** Deadline of all agent calls of one delete (destroys, then Terminate). @default 120 000 ms */
  readonly agentTimeoutMs?: number;
}

/** The deletion helper {@link createHostDeletion} builds. */
export type HostDeletion = ReturnType<typeof createHostDeletion>;

/** Builds the deletion helper. */
export function createHostDeletion(deps: HostDeletionDeps) {
  const agentTimeoutMs = deps.agentTimeoutMs ?? 120_000;

  /**
   * Best effort: destroys the capsules and sends `Terminate`. Failures are
   * logged, never thrown — the host is going away either way, and an agent
   * that missed this learns it from the 404 on its next heartbeat, which
   * makes it delete its credentials and shut down (destroying what it runs).
   */
  async function shutDownAgent(host: Host, capsuleIds: readonly string[]): Promise<void> {
    const log = deps.log.child({ hostId: toPublicId("host", host.id) });
    const signal = AbortSignal.timeout(agentTimeoutMs);
    const client = deps.pool.client({ id: host.id, address: host.address });
    const results = await Promise.allSettled(
      capsuleIds.map((sandboxId) => client.destroySandbox({ sandboxId }, { signal })),
    );
    const failed = results.filter((r) => r.status === "rejected" && !isAgentNotFound(r.reason));
    if (failed.length > 0) {
      const first = failed[0];
      log.warn(
        { failed: failed.length, err: first?.status === "rejected" ? first.reason : undefined },
        "host delete: some capsules could not be destroyed on the agent",
      );
    }
    try {
      await client.terminate({}, { signal });
    } catch (err) {
      log.warn({ err }, "host delete: Terminate failed (the agent stops on its next heartbeat)");
    }
  }

  return {
    /** Public ids of the capsules on the host that are pending, running, paused or missing. */
    async activeCapsuleIds(host: Host): Promise<string[]> {
      const active = await deps.capsules.listByHostAndStatus(host.id, ACTIVE_CAPSULE_STATUSES);
      return active.map((c) => toPublicId("capsule", c.id));
    },

    /**
     * Deletes the host. Without `force`, active capsules (paused ones too:
     * their snapshots live on the host) make it a 409 `has_active_sandboxes`
     * listing them. With `force`, they are destroyed and marked stopped.
     * Refresh and registration tokens are revoked, the pool forgets the
     * host's client, and the row goes (tags and token records cascade).
     */
    async delete(host: Host, options: { readonly force: boolean; readonly actor: AuditActor }): Promise<void> {
      const active = await deps.capsules.listByHostAndStatus(host.id, ACTIVE_CAPSULE_STATUSES);
      const capsuleIds = active.map((c) => toPublicId("capsule", c.id));
      if (capsuleIds.length > 0 && !options.force) {
        throw new ApiError(
          409,
          "has_active_sandboxes",
          `the host has ${capsuleIds.length} active capsule(s); delete with force=true to destroy them`,
          { extra: { sandbox_ids: capsuleIds } },
        );
      }
      if (host.address !== "") await shutDownAgent(host, capsuleIds);
      await deps.db.transaction(async (tx) => {
        if (active.length > 0) {
          await createCapsulesRepo(tx).bulkSetStatus(
            active.map((c) => c.id),
            "stopped",
          );
        }
        await createHostTokensRepo(tx).revokeRefreshTokens(host.id);
        await createTokensRepo(tx).revokeForSubject("host_registration", host.id);
        await createHostsRepo(tx).delete(host.id);
      });
      deps.pool.evict(host.id);
      for (const id of capsuleIds) deps.onCapsuleGone?.(id);
      const hostId = toPublicId("host", host.id);
      deps.audit.record({
        teamId: host.teamId ?? PLATFORM_TEAM_ID,
        actor: options.actor,
        resourceType: "host",
        resourceId: hostId,
        action: "delete",
        scope: "admin",
        status: "warning",
        ...(capsuleIds.length > 0 ? { metadata: { destroyed_sandboxes: capsuleIds.length } } : {}),
      });
      deps.log.info({ hostId, destroyedCapsules: capsuleIds.length }, "host deleted");
    },
  };
}
