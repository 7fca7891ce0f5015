import type { Capsule as CapsuleSchema, Static } from "@wrenn/api-schema";
import { toPublicId } from "../ids/public-id.js";
import type { Capsule } from "./capsules.repo.js";

/** The API shape of a capsule. */
export type CapsuleJson = Static<typeof CapsuleSchema>;

/** Maps a capsule row to its API shape: public id, RFC 3339 times, empty optionals omitted. */
export function toCapsuleJson(c: Capsule): CapsuleJson {
  return {
    id: toPublicId("capsule", c.id),
    status: c.status,
    template: c.template,
    vcpus: c.vcpus,
    memory_mb: c.memoryMb,
    timeout_sec: c.timeoutSec,
    ...(c.hostIp ? { host_ip: c.hostIp } : {}),
    created_at: c.createdAt.toISOString(),
    ...(c.startedAt ? { started_at: c.startedAt.toISOString() } : {}),
    ...(c.lastActiveAt ? { last_active_at: c.lastActiveAt.toISOString() } : {}),
    last_updated: c.lastUpdated.toISOString(),
    ...(Object.keys(c.metadata).length > 0 ? { metadata: c.metadata } : {}),
  };
}
