/**
 * The proxy floor: the least an extra Node HTTP hop can do (http.request + pipeline over a
 * keep-alive pool, headers passed as they are), in this process like the agent's proxy.
 * What the agent's proxy costs beyond it is its own work (routing, header rules, retries).
 */
import { Agent, createServer, request } from "node:http";
import { pipeline } from "node:stream";
import { listenOnLoopback } from "@wrenn/kit";

/** A running bare proxy to one upstream; dispose closes it. */
export interface BareProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: paths are forwarded unchanged. */
  readonly url: string;
}

/** Starts a bare forwarding server on loopback for `host:port`. */
export async function startBareProxy(host: string, port: number): Promise<BareProxy> {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 32 });
  const server = createServer((req, res) => {
    const up = request({ agent, host, port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      pipeline(upRes, res, () => undefined);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  return listenOnLoopback(server, () => agent.destroy());
}
