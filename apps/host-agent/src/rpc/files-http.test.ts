import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { LoopbackRuntime } from "../sandboxes/loopback-runtime.js";
import { envdSkip, testManager } from "../sandboxes/sandbox-test-helpers.js";
import { createFileHttpHandler, FILE_DOWNLOAD_PATH, FILE_UPLOAD_PATH } from "./files-http.js";
import { createHostAgentService } from "./hostagent-service.js";

/** The download handler and the RPCs (for everything else) on 127.0.0.1:0 over a loopback manager. */
async function downloadServer() {
  const tm = await testManager();
  const deps = {
    manager: tm.mgr,
    runtime: new LoopbackRuntime(),
    resolveImage: async () => ({ rootfsDir: "/" }),
    dataDir: tm.stateRoot,
  };
  const rpc = connectNodeAdapter({ routes: (r) => r.service(HostAgentService, createHostAgentService(deps)) });
  const download = createFileHttpHandler(deps);
  const server = createServer((req, res) => {
    if (!download(req, res)) rpc(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    client: createClient(HostAgentService, createConnectTransport({ baseUrl: base, httpVersion: "1.1" })),
    /** GET (or `method`) the download with these query parameters. */
    get(query: Record<string, string>, method = "GET") {
      return fetch(`${base}${FILE_DOWNLOAD_PATH}?${new URLSearchParams(query)}`, { method });
    },
    /** POST `body` (or `method` without one) to the upload with these query parameters. */
    put(query: Record<string, string>, body: Uint8Array | undefined, method = "POST") {
      return fetch(`${base}${FILE_UPLOAD_PATH}?${new URLSearchParams(query)}`, {
        method,
        ...(body === undefined ? {} : { body }),
      });
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await tm[Symbol.asyncDispose]();
    },
  };
}

async function assertConnectError(res: Response, status: number, code: string, what: string): Promise<void> {
  assert.equal(res.status, status, what);
  assert.equal(res.headers.get("content-type"), "application/json", what);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, code, what);
  assert.ok(body.message.length > 0, what);
}

describe("plain-HTTP file transfers", { skip: envdSkip }, () => {
  it("streams envd's bytes with their length; errors are Connect JSON bodies with Connect's status", async (t) => {
    await using s = await downloadServer();
    const dir = await mkdtemp(join(tmpdir(), "wrenn-dl-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "data.bin");
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await writeFile(file, bytes);
    const id = "dl-files";
    await s.client.createSandbox({ sandboxId: id }); // an RPC: the handler let it through

    const ok = await s.get({ sandbox_id: id, path: file });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/octet-stream");
    assert.equal(ok.headers.get("content-length"), String(bytes.length));
    assert.ok(Buffer.from(await ok.arrayBuffer()).equals(bytes));

    const cases: [Record<string, string>, string, number, string][] = [
      [{ sandbox_id: id, path: join(dir, "none") }, "GET", 404, "not_found"],
      [{ sandbox_id: "dl-nobody", path: file }, "GET", 404, "not_found"],
      [{ sandbox_id: id }, "GET", 400, "invalid_argument"],
      [{ path: file }, "GET", 400, "invalid_argument"],
      [{ sandbox_id: id, path: file }, "POST", 400, "invalid_argument"],
    ];
    for (const [query, method, status, code] of cases) {
      await assertConnectError(await s.get(query, method), status, code, `${method} ${JSON.stringify(query)}`);
    }
    await s.client.destroySandbox({ sandboxId: id });
    const gone = await s.get({ sandbox_id: id, path: file });
    assert.equal(gone.status, 404);
  });

  it("stores an upload's raw body through envd; answers errors like the download", async (t) => {
    await using s = await downloadServer();
    const dir = await mkdtemp(join(tmpdir(), "wrenn-up-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const id = "up-files";
    await s.client.createSandbox({ sandboxId: id });
    const bytes = Buffer.from(Array.from({ length: 500_000 }, (_, i) => (i * 7) % 253));
    const file = join(dir, "sub", "up.bin");
    const stored = await s.put({ sandbox_id: id, path: file }, bytes);
    assert.equal(stored.status, 204);
    assert.ok((await readFile(file)).equals(bytes));
    const empty = join(dir, "empty");
    assert.equal((await s.put({ sandbox_id: id, path: empty }, new Uint8Array())).status, 204);
    assert.equal((await readFile(empty)).length, 0);

    await assertConnectError(await s.put({ sandbox_id: "up-nobody", path: file }, bytes), 404, "not_found", "nobody");
    await assertConnectError(await s.put({ sandbox_id: id }, bytes), 400, "invalid_argument", "no path");
    await assertConnectError(
      await s.put({ sandbox_id: id, path: file }, undefined, "GET"),
      400,
      "invalid_argument",
      "GET",
    );
    assert.ok((await readFile(file)).equals(bytes), "failed uploads left the file alone");
    await s.client.destroySandbox({ sandboxId: id });
  });
});
