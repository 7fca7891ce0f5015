import type { FileEntry as FileEntryJson, Static } from "@wrenn/api-schema";
import type { FileEntry } from "@wrenn/protocol/hostagent/v1";
import type { CapsuleAccess } from "../capsules/capsule-access.js";
import { agentErrorToApi } from "../hosts/agent-errors.js";
import type { Principal } from "../http/auth.js";

/** Chunk size of file streams to the agent (as the reference: 64 KiB). */
const CHUNK = 64 * 1024;

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
  const running = async (principal: Principal, id: string) => {
    const capsule = await access.findIn(principal.teamId, id, ["running"]);
    return { capsule, agent: await access.agent(capsule) };
  };

  return {
    /** Streams `content` to `path` in the capsule (client-streaming RPC, re-chunked to 64 KiB). */
    async write(principal: Principal, id: string, path: string, content: AsyncIterable<Uint8Array>): Promise<void> {
      const { agent } = await running(principal, id);
      async function* messages() {
        yield { content: { case: "meta" as const, value: { sandboxId: id, path, user: "" } } };
        for await (const chunk of rechunk(content, CHUNK)) yield { content: { case: "chunk" as const, value: chunk } };
      }
      try {
        await agent.writeFileStream(messages());
      } catch (err) {
        throw agentErrorToApi(err);
      }
    },

    /**
     * Opens `path` for reading. Resolves once the agent has answered (so a
     * missing file is a 404 before any byte is sent) with the stream of the rest.
     */
    async read(
      principal: Principal,
      id: string,
      path: string,
      signal: AbortSignal,
    ): Promise<AsyncIterable<Uint8Array>> {
      const { agent } = await running(principal, id);
      const stream = agent.readFileStream({ sandboxId: id, path, user: "" }, { signal })[Symbol.asyncIterator]();
      let first: IteratorResult<{ chunk: Uint8Array }>;
      try {
        first = await stream.next();
      } catch (err) {
        throw agentErrorToApi(err);
      }
      return (async function* () {
        if (first.done) return;
        yield first.value.chunk;
        for (let next = await stream.next(); !next.done; next = await stream.next()) yield next.value.chunk;
      })();
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

/** Re-cuts a byte stream into chunks of at most `size` bytes, joining small ones. */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buf = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending, size);
      buf = buf.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buf.length > 0) {
      // Copy: the source may reuse its buffer after we yield.
      pending.push(Buffer.from(buf));
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
