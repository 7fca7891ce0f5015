import type { Host as HostSchema, Static } from "@wrenn/api-schema";
import { toPublicId } from "../ids/public-id.js";
import type { Host } from "./hosts.repo.js";

/** The API shape of a host (inventory §2.2 "Host JSON"). */
export type HostJson = Static<typeof HostSchema>;

/**
 * Maps a host row to its API shape: public ids, RFC 3339 times, and every
 * zero or empty field left out (the reference omits them too: a pending host
 * has no arch, sizes or address yet). `teamName` is only given for the
 * platform admins' list.
 */
export function toHostJson(h: Host, teamName?: string): HostJson {
  return {
    id: toPublicId("host", h.id),
    type: h.type,
    ...(h.teamId ? { team_id: toPublicId("team", h.teamId) } : {}),
    ...(teamName ? { team_name: teamName } : {}),
    ...(h.provider ? { provider: h.provider } : {}),
    ...(h.availabilityZone ? { availability_zone: h.availabilityZone } : {}),
    ...(h.arch ? { arch: h.arch } : {}),
    ...(h.cpuCores > 0 ? { cpu_cores: h.cpuCores } : {}),
    ...(h.memoryMb > 0 ? { memory_mb: h.memoryMb } : {}),
    ...(h.diskGb > 0 ? { disk_gb: h.diskGb } : {}),
    ...(h.address ? { address: h.address } : {}),
    status: h.status,
    ...(h.lastHeartbeatAt ? { last_heartbeat_at: h.lastHeartbeatAt.toISOString() } : {}),
    ...(h.createdBy ? { created_by: toPublicId("user", h.createdBy) } : {}),
    created_at: h.createdAt.toISOString(),
    updated_at: h.updatedAt.toISOString(),
  };
}
