/** A plain Node HTTP server inside a capsule, the workload behind the proxy benchmarks. */
import type { BenchAgent } from "./agent.js";
import { probe } from "./floors.js";

/** Port the guest server listens on inside the capsule. */
export const GUEST_PORT = 8080;

/**
 * `GET /big?bytes=N` streams N bytes from one 1 MiB buffer (no disk, with back-pressure);
 * anything else answers `ok`. argv[1] = port (`node -e script port`).
 */
const SERVER = `const chunk=Buffer.alloc(1<<20,120);require("node:http").createServer((q,s)=>{const u=new URL(q.url,"http://guest");if(u.pathname!=="/big"){s.writeHead(200,{"content-type":"text/plain","content-length":"2"});s.end("ok");return}let left=Number(u.searchParams.get("bytes"))||0;s.writeHead(200,{"content-type":"application/octet-stream","content-length":String(left)});const pump=()=>{while(left>0){const n=Math.min(left,chunk.length);left-=n;if(!s.write(n===chunk.length?chunk:chunk.subarray(0,n))){s.once("drain",pump);return}}s.end()};pump()}).listen(+process.argv[1],"0.0.0.0")`;

/** Starts the server in `sandboxId` (through StartBackground) and waits until the host reaches it directly. */
export async function startGuestServer(agent: BenchAgent, sandboxId: string, signal: AbortSignal): Promise<void> {
  await agent.client.startBackground(
    { sandboxId, cmd: "/usr/local/bin/node", args: ["-e", SERVER, String(GUEST_PORT)], tag: "bench-http" },
    { signal },
  );
  const url = `http://${agent.guestIp(sandboxId)}:${GUEST_PORT}/small`;
  const deadline = Date.now() + 60_000;
  while ((await probe(url, 1000)) !== 200) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`the guest server in ${sandboxId} never answered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Base URLs of the guest server: through the agent's proxy thread (`proxied`, what the control
 * plane uses), through `/proxy` on the agent's RPC port (`proxiedMain`, served on the RPC event
 * loop) and straight to the capsule.
 */
export function guestUrls(
  agent: BenchAgent,
  sandboxId: string,
): { proxied: string; proxiedMain: string; direct: string } {
  return {
    proxied: `${agent.proxyUrl}/proxy/${sandboxId}/${GUEST_PORT}`,
    proxiedMain: `${agent.baseUrl}/proxy/${sandboxId}/${GUEST_PORT}`,
    direct: `http://${agent.guestIp(sandboxId)}:${GUEST_PORT}`,
  };
}
