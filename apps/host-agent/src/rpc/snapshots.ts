/** Template handlers: CreateSnapshot, DeleteSnapshot, FlattenRootfs; and Terminate. */
import type { ServiceImpl } from "@connectrpc/connect";
import { PlatformError } from "@wrenn/kit";
import type { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import type { TemplateKind } from "../runtime/runtime.js";
import type { TemplateStore } from "../templates/template-store.js";
import { type HostAgentDeps, ZERO_UUID } from "./context.js";
import { invalidArgument, notImplemented, requireSandboxId } from "./errors.js";

type Impl = ServiceImpl<typeof HostAgentService>;

function requireStore(deps: HostAgentDeps, method: string): TemplateStore {
  if (!deps.templates) throw notImplemented(method);
  return deps.templates;
}

function requireTemplateId(id: string): string {
  if (id === "") throw invalidArgument("template_id is required");
  return id;
}

/** Writes capsule `sandboxId` as template `templateId` of `teamId`. */
async function materialize(
  deps: HostAgentDeps,
  req: { sandboxId: string; teamId: string; templateId: string },
  kind: TemplateKind,
  signal: AbortSignal,
) {
  const store = requireStore(deps, kind === "base" ? "FlattenRootfs" : "CreateSnapshot");
  const id = requireSandboxId(req.sandboxId);
  const templateId = requireTemplateId(req.templateId);
  const rec = deps.manager.get(id);
  return store.create(req.teamId || ZERO_UUID, templateId, async (dir) => {
    const { template } = await deps.manager.snapshot(id, { dir, kind }, signal);
    const token = template.mode === "memory" ? deps.manager.accessToken(id) : undefined;
    return {
      ...template,
      ...(token !== undefined ? { envdAccessToken: token } : {}),
      kind,
      runtime: deps.runtime.kind,
      sourceSandboxId: id,
      vcpus: rec.vcpus,
      memoryMb: rec.memoryMb,
    };
  });
}

/** The template part of the service, plus Terminate. */
export function snapshotHandlers(
  deps: HostAgentDeps,
): Pick<Impl, "createSnapshot" | "deleteSnapshot" | "flattenRootfs" | "terminate"> {
  return {
    async createSnapshot(req, ctx) {
      const t = await materialize(deps, req, "snapshot", ctx.signal);
      return { name: req.name || t.meta.templateId, sizeBytes: BigInt(t.sizeBytes), mode: t.meta.mode };
    },
    async flattenRootfs(req, ctx) {
      const t = await materialize(deps, req, "base", ctx.signal);
      return { sizeBytes: BigInt(t.sizeBytes) };
    },
    async deleteSnapshot(req) {
      const store = requireStore(deps, "DeleteSnapshot");
      const teamId = req.teamId || ZERO_UUID;
      const templateId = requireTemplateId(req.templateId);
      store.dir(teamId, templateId); // validates the ids before anything else
      // Capsules run on the template's files (overlay lower layer, qcow2 backing file):
      // deleting them under a capsule would break it at its next file lookup or resume.
      const users = deps.manager.list().filter((r) => r.teamId === teamId && r.templateId === templateId);
      if (users.length > 0) {
        throw new PlatformError(
          "failed_precondition",
          "TEMPLATE_IN_USE",
          `the template is used by ${users.length} capsule(s) on this host; destroy them first`,
        );
      }
      await store.delete(teamId, templateId);
      return {};
    },
    async terminate() {
      const terminate = deps.terminate;
      if (!terminate) throw notImplemented("Terminate");
      // Answer first: the shutdown closes the very connection this call came on.
      setImmediate(terminate);
      return {};
    },
  };
}
