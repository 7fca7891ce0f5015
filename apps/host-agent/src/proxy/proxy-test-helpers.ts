import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@wrenn/kit";
import { PortProxy, type PortProxyOptions } from "./port-proxy.js";
import { createProxyServer } from "./proxy-server.js";

export { freePort };

/** Port a listening server got. @internal */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Starts a server on 127.0.0.1:0. @internal */
export async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return portOf(server);
}

/** A proxy server whose only sandbox `sbx` lives at 127.0.0.1. @internal */
export async function startProxy(
  extra: Partial<PortProxyOptions> = {},
): Promise<{ proxy: PortProxy; server: Server; base: string } & AsyncDisposable> {
  const proxy = new PortProxy({ resolve: (id) => (id === "sbx" ? { guestIp: "127.0.0.1" } : undefined), ...extra });
  const server = createProxyServer(proxy);
  const port = await listen(server);
  return {
    proxy,
    server,
    base: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      proxy.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An answer read in full. @internal */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET/other request without redirects, on a fresh connection. @internal */
export function get(url: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** `python3 -m http.server` serving `dir` on a free loopback port; dispose kills it by pid. @internal */
export async function startPythonServer(dir: string): Promise<{ port: number } & AsyncDisposable> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "python3",
    ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir],
    {
      stdio: "ignore",
    },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("python http.server did not start");
    try {
      await get(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    async [Symbol.asyncDispose]() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Closes a plain test server. @internal */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

export { createHttpServer };
