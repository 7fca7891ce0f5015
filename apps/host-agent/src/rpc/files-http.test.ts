import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
import { createFileDownloadHandler, FILE_DOWNLOAD_PATH } from "./files-http.js";
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
  const download = createFileDownloadHandler(deps);
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
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await tm[Symbol.asyncDispose]();
    },
  };
}

describe("plain-HTTP file download", { skip: envdSkip }, () => {
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
      const res = await s.get(query, method);
      assert.equal(res.status, status, `${method} ${JSON.stringify(query)}`);
      assert.equal(res.headers.get("content-type"), "application/json");
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, code, `${method} ${JSON.stringify(query)}`);
      assert.ok(body.message.length > 0);
    }
    await s.client.destroySandbox({ sandboxId: id });
    const gone = await s.get({ sandbox_id: id, path: file });
    assert.equal(gone.status, 404);
  });
});
