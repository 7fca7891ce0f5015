/** What every handler group shares: the dependencies and the "running capsule" gate. */
import { Code, ConnectError } from "@connectrpc/connect";
import type { EnvdClient } from "../envd-client/envd-client.js";
import type { Runtime, RuntimeImage } from "../runtime/runtime.js";
import type { SandboxManager } from "../sandboxes/sandbox-manager.js";
import type { TemplateStore } from "../templates/template-store.js";
import { requireSandboxId } from "./errors.js";

/** What the hostagent service is built on. */
export interface HostAgentDeps {
  readonly manager: SandboxManager;
  /** The runtime the manager uses (GetHostInfo reports its kind and availability). */
  readonly runtime: Runtime;
  /**
   * Resolves the guest image of a template (by id, or by name for agents that build by name;
   * `teamId` is the template's team, for templates made from capsules).
   */
  readonly resolveImage: (templateId: string, templateName: string, teamId?: string) => Promise<RuntimeImage>;
  /**
   * The agent's state directory (`$WRENN_DIR`): GetHostInfo reports the size and free space of
   * the filesystem holding it, where capsule layers and templates are written.
   */
  readonly dataDir: string;
  /** Where CreateSnapshot/FlattenRootfs write templates. Absent: those methods are Unimplemented. */
  readonly templates?: TemplateStore;
  /** Starts the agent's full shutdown (Terminate). Absent: Terminate is Unimplemented. */
  readonly terminate?: () => void;
  /** Why this runtime was chosen, reported by GetHostInfo. @default the runtime's availability reason */
  readonly runtimeReason?: string;
  /** Address the control plane reaches this host's capsules on (reported as host_ip). @default "" */
  readonly hostIp?: string;
  /** @default "0.0.0" */
  readonly agentVersion?: string;
}

/** What an empty team or template id means in the reference: the all-zero UUID. */
export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * The envd client of a capsule that must be running. `bump` marks activity for the TTL
 * reaper (exec/stream/process/PTY calls do; PtyResize/PtyKill and file calls do not).
 */
export function runningEnvd(deps: HostAgentDeps, sandboxId: string, bump: boolean): EnvdClient {
  const id = requireSandboxId(sandboxId);
  const rec = deps.manager.get(id);
  if (rec.status !== "running") {
    throw new ConnectError(`sandbox ${id} is ${rec.status}, not running`, Code.FailedPrecondition);
  }
  if (bump) deps.manager.ping(id);
  return deps.manager.envd(id);
}
