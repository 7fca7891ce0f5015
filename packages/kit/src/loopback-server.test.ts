import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { listenOnLoopback } from "./loopback-server.js";

describe("listenOnLoopback", () => {
  it("serves on 127.0.0.1 and closes despite an idle keep-alive connection", async () => {
    let closed = false;
    const srv = await listenOnLoopback(
      createServer((_req, res) => res.end("hi")),
      () => {
        closed = true;
      },
    );
    try {
      const url = new URL(srv.url);
      assert.equal(url.hostname, "127.0.0.1");
      // A raw HTTP/1.1 client that keeps its connection open after the answer: `server.close`
      // alone would wait for it.
      const socket = connect(Number(url.port), "127.0.0.1");
      socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
      const [chunk] = (await once(socket, "data")) as [Buffer];
      assert.match(chunk.toString(), /^HTTP\/1\.1 200 .*hi$/s);
      const ended = once(socket, "close");
      await srv[Symbol.asyncDispose]();
      await ended;
      assert.equal(closed, true);
      await assert.rejects(fetch(srv.url, { headers: { connection: "close" } }));
    } finally {
      if (!closed) await srv[Symbol.asyncDispose]();
    }
  });
});
