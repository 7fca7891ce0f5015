import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";

/**
 * A free loopback TCP port, found by binding port 0 and releasing it. For
 * programs that must be told a port up front (a spawned envd, python's
 * http.server); servers started in-process should listen on 0 instead.
 */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
