import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An HTTP server listening on 127.0.0.1; disposing it cuts its connections and closes it. */
export interface LoopbackServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, the port the kernel chose. */
  readonly url: string;
}

/**
 * Starts `server` on 127.0.0.1 and a free port, for tests and benchmark floors. Disposal closes
 * every connection first (keep-alive sockets would otherwise hold `close` open), then the server,
 * then runs `onClose` (e.g. destroying an upstream agent).
 */
export async function listenOnLoopback(server: Server, onClose?: () => void): Promise<LoopbackServer> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      onClose?.();
    },
  };
}
