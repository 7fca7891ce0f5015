/** Lifecycle handlers: create, destroy, pause, resume, list, ping, host info. */
import { statfs } from "node:fs/promises";
import { availableParallelism, totalmem } from "node:os";
import type { ServiceImpl } from "@connectrpc/connect";
import type { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import type { SandboxRecord } from "../sandboxes/sandbox-types.js";
import { type HostAgentDeps, runningEnvd, ZERO_UUID } from "./context.js";
import { requireSandboxId } from "./errors.js";

type Impl = ServiceImpl<typeof HostAgentService>;

function sandboxView(deps: HostAgentDeps, r: SandboxRecord) {
  return { sandboxId: r.id, status: r.status, hostIp: deps.hostIp ?? "", metadata: { ...r.metadata } };
}

/** The lifecycle part of the service. */
export function lifecycleHandlers(
  deps: HostAgentDeps,
): Pick<
  Impl,
  | "createSandbox"
  | "destroySandbox"
  | "pauseSandbox"
  | "resumeSandbox"
  | "listSandboxes"
  | "pingSandbox"
  | "getHostInfo"
> {
  const m = deps.manager;
  return {
    async createSandbox(req, ctx) {
      const id = requireSandboxId(req.sandboxId);
      // Empty ids mean "no team / no template" in the reference: the all-zero UUID.
      const templateId = req.templateId || ZERO_UUID;
      const teamId = req.teamId || ZERO_UUID;
      const image = await deps.resolveImage(templateId, req.templateName || req.template, teamId);
      // A VM snapshot restores only into the shape it was taken with (the reference, too,
      // takes the memory size from the snapshot).
      const shape = image.vmSnapshot;
      const rec = await m.create(
        {
          sandboxId: id,
          templateId,
          teamId,
          image,
          vcpus: shape?.vcpus ?? (req.vcpus > 0 ? req.vcpus : 1),
          memoryMb: shape?.memoryMb ?? (req.memoryMb > 0 ? req.memoryMb : 512),
          diskMb: req.diskSizeMb > 0 ? req.diskSizeMb : 5120,
          timeoutSec: Math.max(0, req.timeoutSec),
          envVars: { ...req.defaultEnv },
          ...(req.defaultUser !== "" ? { defaultUser: req.defaultUser } : {}),
          ...(req.envdAccessToken !== "" ? { accessToken: req.envdAccessToken } : {}),
          ...(req.allowInternetAccess !== undefined ? { allowEgress: req.allowInternetAccess } : {}),
        },
        ctx.signal,
      );
      return sandboxView(deps, rec);
    },
    async destroySandbox(req) {
      await m.destroy(requireSandboxId(req.sandboxId));
      return {};
    },
    async pauseSandbox(req, ctx) {
      const rec = await m.pause(requireSandboxId(req.sandboxId), ctx.signal);
      return { mode: rec.pauseMode ?? "" };
    },
    async resumeSandbox(req, ctx) {
      // The control plane sends the capsule's stored settings on every resume: the TTL always
      // applies (0 = never), an empty user or token keeps the one from create, env is merged.
      const rec = await m.resume(requireSandboxId(req.sandboxId), ctx.signal, {
        timeoutSec: Math.max(0, req.timeoutSec),
        envVars: { ...req.defaultEnv },
        ...(req.defaultUser !== "" ? { defaultUser: req.defaultUser } : {}),
        ...(req.envdAccessToken !== "" ? { accessToken: req.envdAccessToken } : {}),
      });
      return sandboxView(deps, rec);
    },
    async listSandboxes() {
      const sandboxes = m.list().map((r) => ({
        sandboxId: r.id,
        status: r.status,
        template: r.templateId,
        templateId: r.templateId,
        teamId: r.teamId,
        vcpus: r.vcpus,
        memoryMb: r.memoryMb,
        hostIp: deps.hostIp ?? "",
        createdAtUnix: BigInt(Math.floor(r.createdAt / 1000)),
        lastActiveAtUnix: BigInt(Math.floor(r.lastActiveAt / 1000)),
        timeoutSec: r.timeoutSec,
        metadata: { ...r.metadata },
      }));
      return { sandboxes, autoPausedSandboxIds: m.drainAutoPaused() };
    },
    async pingSandbox(req) {
      runningEnvd(deps, req.sandboxId, true);
      return {};
    },
    async getHostInfo() {
      const a = await deps.runtime.availability();
      const disk = diskSpaceMb(await statfs(deps.dataDir, { bigint: true }));
      return {
        runtime: deps.runtime.kind,
        runtimeReason: deps.runtimeReason ?? a.reason,
        cpuCount: availableParallelism(),
        memoryMb: BigInt(Math.floor(totalmem() / (1024 * 1024))),
        diskMb: disk.totalMb,
        diskFreeMb: disk.freeMb,
        agentVersion: deps.agentVersion ?? "0.0.0",
        // Every runtime here pauses with processes kept (freezer, VM snapshot, SIGSTOP).
        pauseMode: "memory",
      };
    },
  };
}

/**
 * PURE: size and free space (MiB, rounded down) of a filesystem from its statfs counters.
 * Free is `bavail` (what a non-root writer may still use) rather than `bfree` (which counts
 * the blocks reserved for root): it is what capsules created by the agent can fill.
 * bigint counters, so a filesystem larger than 2^53 bytes stays exact.
 */
export function diskSpaceMb(fs: { readonly bsize: bigint; readonly blocks: bigint; readonly bavail: bigint }): {
  totalMb: bigint;
  freeMb: bigint;
} {
  const MiB = 1048576n;
  return { totalMb: (fs.blocks * fs.bsize) / MiB, freeMb: (fs.bavail * fs.bsize) / MiB };
}
