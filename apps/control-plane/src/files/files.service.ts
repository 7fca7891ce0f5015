import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { FileEntry as FileEntryJson, Static } from "@wrenn/api-schema";
import type { FileEntry } from "@wrenn/protocol/hostagent/v1";
import type { CapsuleAccess } from "../capsules/capsule-access.js";
import { agentErrorToApi } from "../hosts/agent-errors.js";
import type { Principal } from "../http/auth.js";

/** Maps an agent file entry to the API shape. */
export function toFileEntryJson(e: FileEntry): Static<typeof FileEntryJson> {
  const type = e.type === "file" || e.type === "directory" || e.type === "symlink" ? e.type : "unknown";
  return {
    name: e.name,
    path: e.path,
    type,
    size: Number(e.size),
    mode: e.mode,
    permissions: e.permissions,
    owner: e.owner,
    group: e.group,
    modified_at: Number(e.modifiedAt),
    ...(e.symlinkTarget !== undefined && e.symlinkTarget !== "" ? { symlink_target: e.symlinkTarget } : {}),
  };
}

/** Files of running capsules, streamed end to end (constant memory at any size). */
export function createFilesService(deps: { readonly access: CapsuleAccess }) {
  const { access } = deps;
  const running = (principal: Principal, id: string) => access.findWithAgent(principal.teamId, id, ["running"]);

  return {
    /**
     * Streams `content` to `path` in the capsule over the agent's plain-HTTP upload, as fast
     * as the agent takes it; resolves once the file is stored. `signal` aborts the transfer.
     */
    async write(
      principal: Principal,
      id: string,
      path: string,
      content: AsyncIterable<Uint8Array>,
      signal: AbortSignal = new AbortController().signal,
    ): Promise<void> {
      const { files } = await running(principal, id);
      try {
        await files.upload({ sandboxId: id, path, user: "" }, content, signal);
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    /**
     * Opens `path` for reading over the agent's plain-HTTP download. Resolves once the agent
     * has answered (so a missing file is a 404 before any byte is sent) with the body, and its
     * size when the agent knows it. Aborting `signal` stops the agent's transfer.
     */
    async read(
      principal: Principal,
      id: string,
      path: string,
      signal: AbortSignal,
    ): Promise<{ readonly body: Readable; readonly size: number | undefined }> {
      const { files } = await running(principal, id);
      let body: IncomingMessage;
      try {
        body = await files.download({ sandboxId: id, path, user: "" }, signal);
      } catch (err) {
        throw agentErrorToApi(err);
      }
      const length = Number(body.headers["content-length"]);
      return { body, size: Number.isSafeInteger(length) && length >= 0 ? length : undefined };
    },

    async list(principal: Principal, id: string, path: string, depth: number) {
      const { agent } = await running(principal, id);
      try {
        const res = await agent.listDir({ sandboxId: id, path, depth }, { signal: AbortSignal.timeout(60_000) });
        return { entries: res.entries.map(toFileEntryJson) };
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    async mkdir(principal: Principal, id: string, path: string) {
      const { agent } = await running(principal, id);
      try {
        const res = await agent.makeDir({ sandboxId: id, path }, { signal: AbortSignal.timeout(30_000) });
        if (res.entry === undefined) throw new Error("agent returned no entry");
        return { entry: toFileEntryJson(res.entry) };
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    async remove(principal: Principal, id: string, path: string): Promise<void> {
      const { agent } = await running(principal, id);
      try {
        await agent.removePath({ sandboxId: id, path }, { signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },
  };
}

/** The service {@link createFilesService} builds. */
export type FilesService = ReturnType<typeof createFilesService>;
