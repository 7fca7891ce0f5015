import type { HostAgentClient, HostClientPool } from "../hosts/host-client-pool.js";
import type { AgentFiles } from "../hosts/host-client-pool-files.js";
import type { HostsRepo } from "../hosts/hosts.repo.js";
import { ApiError, invalidState, notFound } from "../http/api-error.js";
import { parsePublicId } from "../ids/public-id.js";
import type { Capsule, CapsuleStatus, CapsulesRepo } from "./capsules.repo.js";

/** A capsule and the RPC client (and plain-HTTP file transfers) of the agent it runs on. */
export interface CapsuleWithAgent {
  readonly capsule: Capsule;
  readonly agent: HostAgentClient;
  readonly files: AgentFiles;
}

/** What finding a capsule and its agent needs. */
export interface CapsuleAccessDeps {
  readonly capsules: CapsulesRepo;
  readonly hosts: HostsRepo;
  readonly pool: HostClientPool;
}

/**
 * Looks capsules up for a team and reaches their host agents. A capsule of
 * another team is "not found", exactly like one that does not exist, so ids
 * cannot be probed across teams.
 */
export function createCapsuleAccess(deps: CapsuleAccessDeps) {
  const clientFor = (hostId: string, address: string): HostAgentClient => {
    if (address === "") {
      throw new ApiError(503, "host_unavailable", "the capsule's host is unavailable — try again later");
    }
    return deps.pool.client({ id: hostId, address });
  };
  return {
    /** The team's capsule with this public id, in any status; 404 otherwise. */
    async find(teamId: string, publicId: string): Promise<Capsule> {
      const parsed = parsePublicId("capsule", publicId);
      if (!parsed.ok) throw notFound("capsule not found");
      const capsule = await deps.capsules.getForTeam(teamId, parsed.uuid);
      if (capsule === undefined) throw notFound("capsule not found");
      return capsule;
    },

    /** Like {@link find}, and the capsule must be in one of `statuses` (409 `invalid_state` otherwise). */
    async findIn(teamId: string, publicId: string, statuses: readonly CapsuleStatus[]): Promise<Capsule> {
      const capsule = await this.find(teamId, publicId);
      requireStatus(capsule, statuses);
      return capsule;
    },

    /** The RPC client of the capsule's host; 503 when the host is gone or has no address. */
    async agent(capsule: Capsule): Promise<HostAgentClient> {
      const host = await deps.hosts.getById(capsule.hostId);
      return clientFor(capsule.hostId, host?.address ?? "");
    },

    /**
     * {@link findIn} then {@link agent} in one database query — the hot path of exec and
     * file routes. Same answers in the same order: 404, then 409 `invalid_state`, then 503.
     */
    async findWithAgent(
      teamId: string,
      publicId: string,
      statuses: readonly CapsuleStatus[],
    ): Promise<CapsuleWithAgent> {
      const parsed = parsePublicId("capsule", publicId);
      if (!parsed.ok) throw notFound("capsule not found");
      const row = await deps.capsules.getForTeamWithHost(teamId, parsed.uuid);
      if (row === undefined) throw notFound("capsule not found");
      const { hostAddress, ...capsule } = row;
      requireStatus(capsule, statuses);
      const agent = clientFor(capsule.hostId, hostAddress);
      return { capsule, agent, files: deps.pool.files({ id: capsule.hostId, address: hostAddress }) };
    },
  };
}

/** The access helper {@link createCapsuleAccess} builds. */
export type CapsuleAccess = ReturnType<typeof createCapsuleAccess>;

/** Throws 409 `invalid_state` unless the capsule is in one of `statuses`. */
export function requireStatus(capsule: Capsule, statuses: readonly CapsuleStatus[]): void {
  if (!statuses.includes(capsule.status)) {
    throw invalidState(`capsule is ${capsule.status}; this needs it ${statuses.join(" or ")}`);
  }
}
