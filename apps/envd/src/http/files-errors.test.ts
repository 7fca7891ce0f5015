import assert from "node:assert/strict";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { silentLogger } from "@wrenn/kit";
import { sendFilesError } from "./files-errors.js";

/** An upload that the server refuses after its first chunk, as envd does when the disk fills up. */
async function refusedUpload(bodyBytes: number): Promise<{ status?: number; body?: string; error?: string }> {
  const server = createServer((req, res) => {
    req.once("data", () => {
      req.pause();
      const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28 });
      sendFilesError(res, full, { log: silentLogger });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const keepAlive = new Agent({ keepAlive: true });
  try {
    return await new Promise((resolve) => {
      // A keep-alive client, as the host agent's envd client is.
      const req = request({ port, host: "127.0.0.1", method: "POST", path: "/files", agent: keepAlive });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          body += d;
        });
        // The client goes on sending to the end, as a client that reads the answer late would.
        res.on("end", () => {
          const done = () => resolve({ status: res.statusCode ?? 0, body });
          if (req.writableFinished) done();
          else req.once("finish", done);
        });
      });
      req.on("error", (err) => resolve({ error: err.message }));
      const chunk = Buffer.alloc(1024 * 1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < bodyBytes) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
  } finally {
    keepAlive.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe("sendFilesError on an upload refused mid-way", () => {
  it("drains the rest of the body: the client reads the 507 and finishes sending without a broken pipe", async () => {
    for (let i = 0; i < 5; i++) {
      const got = await refusedUpload(64 * 1024 * 1024);
      assert.equal(got.error, undefined, `attempt ${i}: ${got.error}`);
      assert.equal(got.status, 507);
      assert.deepEqual(JSON.parse(got.body ?? ""), { code: 507, message: "not enough disk space available" });
    }
  });
});
