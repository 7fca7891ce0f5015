import { ApiError } from "../http/api-error.js";
import type { HostLoad } from "./hosts.repo.js";

export type { HostLoad };

/** What a new capsule needs. */
export interface PlacementRequest {
  readonly teamId: string;
  /** BYOC teams run only on their own hosts; others only on platform (`regular`) hosts. */
  readonly isByoc: boolean;
  readonly memoryMb: number;
  readonly diskMb: number;
}

/**
 * Capacity left on a host after a reserve for the host itself. The reference
 * reserved a fixed 8 GiB RAM and 30 GiB disk, which leaves nothing on the
 * small machines self-hosters use; the reserve here is that or a quarter of
 * the machine, whichever is smaller. CPUs are overcommitted 1.5× (minus 4
 * for the host's own work, at least 1) as in the reference.
 */
export function capacityOf(host: HostLoad): { ramMb: number; cpu: number; diskMb: number } {
  const ramMb = host.memoryMb - Math.min(8192, host.memoryMb / 4);
  const diskMb = host.diskGb * 1024 - Math.min(30_720, (host.diskGb * 1024) / 4);
  const cpu = Math.max(1, host.cpuCores * 1.5 - 4);
  return { ramMb, cpu, diskMb };
}

/** Per-resource usable amounts: paused capsules count half their RAM and two thirds of their disk. */
export function usableOf(host: HostLoad): { ramMb: number; cpu: number; diskMb: number } {
  const cap = capacityOf(host);
  return {
    ramMb: cap.ramMb - host.runningMemoryMb - 0.5 * host.pausedMemoryMb,
    cpu: cap.cpu - host.runningVcpus,
    diskMb: cap.diskMb - host.runningDiskMb - (2 / 3) * host.pausedDiskMb,
  };
}

/**
 * Least-loaded, memory-aware placement with admission control: hosts without
 * room for the capsule's memory or disk are skipped (CPU may be overcommitted),
 * the rest are scored by their scarcest resource (fraction left) and the
 * highest score wins; ties go to the host listed first. Throws a 503
 * `no_hosts_available` that says why.
 */
export function pickHost(hosts: readonly HostLoad[], req: PlacementRequest): HostLoad {
  const eligible = hosts.filter((h) =>
    req.isByoc ? h.type === "byoc" && h.teamId === req.teamId : h.type === "regular",
  );
  if (eligible.length === 0) {
    throw new ApiError(
      503,
      "no_hosts_available",
      req.isByoc ? "no online BYOC hosts available for this team" : "no online hosts available — try again later",
    );
  }
  let best: HostLoad | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const host of eligible) {
    const cap = capacityOf(host);
    const free = usableOf(host);
    if (free.ramMb < req.memoryMb || free.diskMb < req.diskMb) continue;
    const score = Math.min(free.ramMb / cap.ramMb, free.cpu / cap.cpu, free.diskMb / cap.diskMb);
    if (score > bestScore) {
      best = host;
      bestScore = score;
    }
  }
  if (best === undefined) {
    throw new ApiError(
      503,
      "no_hosts_available",
      `no host has sufficient resources: need ${req.memoryMb} MB memory, ${req.diskMb} MB disk`,
    );
  }
  return best;
}
