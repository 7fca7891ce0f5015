import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { FileEntry as FileEntryJson, Static } from "@wrenn/api-schema";
import { boundedChunks } from "@wrenn/kit";
import type { FileEntry } from "@wrenn/protocol/hostagent/v1";
import type { CapsuleAccess } from "../capsules/capsule-access.js";
import { agentErrorToApi } from "../hosts/agent-errors.js";
import type { Principal } from "../http/auth.js";

/** Largest chunk of file streams to the agent (as the reference: 64 KiB). */
const CHUNK = 64 * 1024;

/**
 * Smallest chunk but the last: the upload's pieces of 16 KiB or more go to the agent as they
 * are (no copy); only smaller ones are joined. See `boundedChunks`.
 */
const MIN_CHUNK = 16 * 1024;

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
    /** Streams `content` to `path` in the capsule (client-streaming RPC, chunks of 16-64 KiB). */
    async write(principal: Principal, id: string, path: string, content: AsyncIterable<Uint8Array>): Promise<void> {
      const { agent } = await running(principal, id);
      async function* messages() {
        yield { content: { case: "meta" as const, value: { sandboxId: id, path, user: "" } } };
        for await (const chunk of boundedChunks(content, CHUNK, MIN_CHUNK))
          yield { content: { case: "chunk" as const, value: chunk } };
      }
      try {
        await agent.writeFileStream(messages());
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
