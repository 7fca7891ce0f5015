import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { test } from "node:test";
import { ownSocketInodes } from "./own-socket-inodes.js";
import { parseProcNetTcp, TcpState } from "./proc-net-tcp.js";

test("finds the inode of a socket this process listens on", { skip: process.platform !== "linux" }, async (t) => {
  const server = createServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  const row = parseProcNetTcp(await readFile("/proc/net/tcp", "utf8")).find(
    (r) => r.state === TcpState.Listen && r.localAddress === "127.0.0.1" && r.localPort === address.port,
  );
  assert.ok(row, "listener visible in /proc/net/tcp");
  assert.ok((await ownSocketInodes()).has(row.inode));
});

test("a missing fd directory yields an empty set", async () => {
  assert.equal((await ownSocketInodes("/nonexistent/fd")).size, 0);
});
