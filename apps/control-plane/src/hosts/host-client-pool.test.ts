import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, it } from "node:test";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { HostClientPool } from "./host-client-pool.js";

describe("HostClientPool", () => {
  it("asks agents for uncompressed responses: a stock Connect server that would gzip sends the bytes as they are", async () => {
    const chunk = Buffer.alloc(256 * 1024, 7);
    const offered: (string | undefined)[] = [];
    const rpc = connectNodeAdapter({
      routes: (r) =>
        r.service(HostAgentService, {
          async *readFileStream() {
            yield { chunk };
            yield { chunk };
          },
        }),
    });
    const server = createServer((req, res) => {
      offered.push(req.headers["connect-accept-encoding"]?.toString());
      rpc(req, res);
    });
    const sockets: Socket[] = [];
    server.on("connection", (socket: Socket) => sockets.push(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    await using pool = new HostClientPool({ tls: () => undefined });
    try {
      const client = pool.client({ id: "h1", address: `127.0.0.1:${(server.address() as AddressInfo).port}` });
      let received = 0;
      for await (const m of client.readFileStream({ sandboxId: "x", path: "/f" })) {
        assert.ok(m.chunk.every((b) => b === 7));
        received += m.chunk.length;
      }
      assert.equal(received, 2 * chunk.length);
      assert.deepEqual(offered, [undefined], "no Connect-Accept-Encoding offered");
      const wire = sockets.reduce((n, s) => n + s.bytesWritten, 0);
      assert.ok(wire > 2 * chunk.length, `${wire} bytes on the wire: the chunks came uncompressed`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("keeps one client per host and rebuilds it when the host's address changes", () => {
    const pool = new HostClientPool({ tls: () => undefined });
    const a = pool.client({ id: "h1", address: "127.0.0.1:1" });
    assert.equal(pool.client({ id: "h1", address: "127.0.0.1:1" }), a);
    assert.notEqual(pool.client({ id: "h1", address: "127.0.0.1:2" }), a);
    assert.equal(pool.scheme, "http");
  });
});
