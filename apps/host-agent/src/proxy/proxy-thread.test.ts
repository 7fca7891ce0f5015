import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { Worker } from "node:worker_threads";
import { MemoryLogger } from "@wrenn/kit";
import { newProxyWorker, startProxyThread } from "./proxy-thread.js";

describe("proxy thread", () => {
  it("a thread that dies is started again on the same port; evictions and close reach the new one", async () => {
    const guest = createServer((req, res) => res.end(`guest ${req.url}`));
    guest.listen(0, "127.0.0.1");
    await once(guest, "listening");
    const guestPort = (guest.address() as AddressInfo).port;
    const workers: Worker[] = [];
    const log = new MemoryLogger();
    const thread = await startProxyThread(
      { host: "127.0.0.1", port: 0, resolve: () => ({ guestIp: "127.0.0.1" }), log, restartDelayMs: 20 },
      (data) => {
        const w = newProxyWorker(data);
        workers.push(w);
        return w;
      },
    );
    const url = `http://127.0.0.1:${thread.port}/proxy/sb-1/${guestPort}/x`;
    try {
      assert.equal(await (await fetch(url)).text(), "guest /x");
      const first = workers[0];
      assert.ok(first);
      await first.terminate();
      // Until the new thread listens the port refuses; then it answers as before.
      let answer = "";
      for (let i = 0; i < 200 && answer === ""; i++) {
        answer = await fetch(url).then(
          (r) => r.text(),
          () => new Promise<string>((r) => setTimeout(() => r(""), 25)),
        );
      }
      assert.equal(answer, "guest /x");
      assert.equal(workers.length, 2);
      assert.ok(log.entries.some((e) => e.level === "error" && e.msg === "proxy thread ended; starting it again"));
      thread.evict("sb-1");
    } finally {
      await thread.close();
      guest.closeAllConnections();
      await new Promise((r) => guest.close(r));
    }
    assert.equal(workers[1]?.threadId, -1, "the restarted thread ended on close");
    await assert.rejects(fetch(url), "nothing listens after close");
  });
});
