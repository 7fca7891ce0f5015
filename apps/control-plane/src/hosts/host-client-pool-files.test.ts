import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { TLSSocket } from "node:tls";
import { Code, ConnectError } from "@connectrpc/connect";
import { freePort } from "@wrenn/kit";
import { toPublicId } from "../ids/public-id.js";
import { InternalCa } from "../pki/internal-ca.js";
import { HostClientPool } from "./host-client-pool.js";
import { AGENT_FILE_DOWNLOAD_PATH } from "./host-client-pool-files.js";

/** An HTTP server on 127.0.0.1:0 answering with `handle`; records the URLs asked for. */
async function agentLike(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(req.url ?? "");
    handle(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    host: { id: "h1", address: `127.0.0.1:${(server.address() as AddressInfo).port}` },
    urls,
    [Symbol.dispose]() {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function rejectsWithCode(p: Promise<unknown>, code: Code, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.equal(err.rawMessage, message);
    return true;
  });
}

describe("AgentFiles (the agent's plain-HTTP file transfers)", () => {
  it("asks for the capsule, path and user, and hands back the body with its length", async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    using agent = await agentLike((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      res.end(bytes);
    });
    await using pool = new HostClientPool({ tls: () => undefined });
    const files = pool.files(agent.host);
    const res = await files.download({ sandboxId: "cl-1", path: "/a b/ü&x", user: "" }, new AbortController().signal);
    assert.equal(res.headers["content-length"], String(bytes.length));
    const got: Buffer[] = [];
    for await (const c of res) got.push(c as Buffer);
    assert.ok(Buffer.concat(got).equals(bytes));
    (await files.download({ sandboxId: "cl-1", path: "/f", user: "alice" }, AbortSignal.timeout(5000))).resume();
    const asked = agent.urls.map((u) => new URL(u, "http://x"));
    assert.deepEqual(
      asked.map((u) => [u.pathname, Object.fromEntries(u.searchParams)]),
      [
        [AGENT_FILE_DOWNLOAD_PATH, { sandbox_id: "cl-1", path: "/a b/ü&x" }],
        [AGENT_FILE_DOWNLOAD_PATH, { sandbox_id: "cl-1", path: "/f", user: "alice" }],
      ],
    );
  });

  it("turns the agent's Connect JSON errors back into ConnectErrors; other answers by their status", async () => {
    using agent = await agentLike((req, res) => {
      const path = new URL(req.url ?? "", "http://x").searchParams.get("path");
      if (path === "/missing") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "not_found", message: "envd /files /missing: 404 no such file" }));
      } else if (path === "/full") {
        res.writeHead(429, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "resource_exhausted", message: "disk full" }));
      } else {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>bad gateway</html>");
      }
    });
    await using pool = new HostClientPool({ tls: () => undefined });
    const files = pool.files(agent.host);
    const signal = AbortSignal.timeout(5000);
    const get = (path: string) => files.download({ sandboxId: "cl-1", path, user: "" }, signal);
    await rejectsWithCode(get("/missing"), Code.NotFound, "envd /files /missing: 404 no such file");
    await rejectsWithCode(get("/full"), Code.ResourceExhausted, "disk full");
    await rejectsWithCode(get("/proxy-error"), Code.Unavailable, "host agent answered HTTP 502");
  });

  it("is Unavailable when nothing listens and Canceled when the caller gives up first", async () => {
    await using pool = new HostClientPool({ tls: () => undefined });
    const nobody = pool.files({ id: "h2", address: `127.0.0.1:${await freePort()}` });
    await rejectsWithCode(
      nobody.download({ sandboxId: "cl-1", path: "/f", user: "" }, AbortSignal.timeout(5000)),
      Code.Unavailable,
    );
    using agent = await agentLike(() => {
      // Never answers: the caller's abort must end the wait.
    });
    const abort = new AbortController();
    const pending = pool.files(agent.host).download({ sandboxId: "cl-1", path: "/f", user: "" }, abort.signal);
    abort.abort();
    await rejectsWithCode(pending, Code.Canceled);
  });

  it("uploads: streams the body to the agent and resolves on 204; the agent's error stops the sending", async () => {
    const stored: Buffer[] = [];
    using agent = await agentLike((req, res) => {
      const path = new URL(req.url ?? "", "http://x").searchParams.get("path");
      if (path === "/readonly") {
        // Answers at once, without reading the body (as the agent does for a stopped capsule).
        res.writeHead(412, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "failed_precondition", message: "sandbox cl-1 is paused, not running" }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        stored.push(Buffer.concat(chunks));
        res.writeHead(204).end();
      });
    });
    await using pool = new HostClientPool({ tls: () => undefined });
    const files = pool.files(agent.host);
    const signal = AbortSignal.timeout(10_000);
    const piece = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    async function* pieces(n: number, sent: { count: number }) {
      for (; sent.count < n; sent.count++) yield piece;
    }
    await files.upload({ sandboxId: "cl-1", path: "/ok", user: "" }, pieces(5, { count: 0 }), signal);
    assert.equal(stored.length, 1);
    assert.ok(stored[0]?.equals(Buffer.concat(Array.from({ length: 5 }, () => piece))));

    const sent = { count: 0 };
    const many = 100_000; // ~7 GB if nothing stopped it
    await rejectsWithCode(
      files.upload({ sandboxId: "cl-1", path: "/readonly", user: "" }, pieces(many, sent), signal),
      Code.FailedPrecondition,
      "sandbox cl-1 is paused, not running",
    );
    assert.ok(sent.count < many, "sending stopped at the error");
    assert.equal(stored.length, 1);
  });

  it("uploads: a failing source cuts the transfer and its own error comes back", async () => {
    let cut = false;
    let gotBytes: () => void = () => {};
    const bytesArrived = new Promise<void>((resolve) => {
      gotBytes = resolve;
    });
    using agent = await agentLike((req, res) => {
      req.once("data", () => gotBytes());
      req.on("error", () => {
        cut = true;
      });
      req.on("end", () => res.writeHead(204).end());
      req.resume();
    });
    await using pool = new HostClientPool({ tls: () => undefined });
    const tooBig = new Error("the file is larger than 10 bytes");
    async function* failing() {
      yield Buffer.alloc(8, 1);
      await bytesArrived; // the agent is mid-body when the source breaks
      throw tooBig;
    }
    await assert.rejects(
      pool.files(agent.host).upload({ sandboxId: "cl-1", path: "/f", user: "" }, failing(), AbortSignal.timeout(5000)),
      (err: unknown) => err === tooBig,
    );
    await until(() => cut);
  });

  it("goes over the pool's mTLS like the RPCs: the agent sees the control plane's client certificate", async () => {
    const ca = await InternalCa.create();
    const serverCert = await ca.issueHostCert({ hostId: toPublicId("host", randomUUID()), address: "127.0.0.1:1" });
    const clientCert = await ca.issueClientCert();
    const peers: string[] = [];
    const server = createHttpsServer(
      { cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        peers.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        res.end("secret bytes");
      },
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const host = { id: "h1", address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
      const signal = AbortSignal.timeout(5000);
      const tls = { caPem: ca.certPem, certPem: clientCert.certPem, keyPem: clientCert.keyPem };
      await using pool = new HostClientPool({ tls: () => tls });
      const res = await pool.files(host).download({ sandboxId: "cl-1", path: "/f", user: "" }, signal);
      assert.equal(await text(res), "secret bytes");
      assert.deepEqual(peers, ["wrenn-cp"]);
      await using plain = new HostClientPool({ tls: () => undefined });
      await rejectsWithCode(
        plain.files(host).download({ sandboxId: "cl-1", path: "/f", user: "" }, signal),
        Code.Unavailable,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/** Waits for `cond` on the event loop (no wall-clock bound: the test's own timeout applies). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

async function text(res: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}
