/**
 * The fast unary path answers byte for byte as connect-node does: the same requests go to a
 * server with it and one without, over the same service and capsule.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { listenOnLoopback } from "@wrenn/kit";
import { ExecRequestSchema, HostAgentService, PingSandboxRequestSchema } from "@wrenn/protocol/hostagent/v1";
import { envdSkip } from "../sandboxes/sandbox-test-helpers.js";
import { harness, rejectsWith } from "./rpc-test-helpers.js";
import { withUnaryFastPath } from "./unary-fast-path.js";

interface Answer {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: string;
}

/** One POST on a fresh connection; the answer with a binary body shown as hex. */
function post(base: string, path: string, headers: Record<string, string>, body: Uint8Array | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const type = res.headers["content-type"];
        const raw = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          type,
          body: type === "application/proto" ? raw.toString("hex") : raw.toString(),
        });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A server on 127.0.0.1:0 for `handler`. */
function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  return listenOnLoopback(createServer(handler));
}

const PROTO = { "content-type": "application/proto", "connect-protocol-version": "1" };
const path = (name: string) => `/${HostAgentService.typeName}/${name}`;
const ping = (sandboxId: string) => toBinary(PingSandboxRequestSchema, create(PingSandboxRequestSchema, { sandboxId }));

describe("unary fast path (real service over a loopback manager)", { skip: envdSkip }, () => {
  it("answers as connect-node does: success, errors, bad bodies, and what it hands over", async () => {
    await using h = await harness();
    const connect = connectNodeAdapter({ routes: (r) => r.service(HostAgentService, h.impl) });
    let handedOver = 0;
    const fast = await listen(
      withUnaryFastPath(h.impl, (req, res) => {
        handedOver++;
        connect(req, res);
      }),
    );
    const plain = await listen(connect);
    try {
      await h.client.createSandbox({ sandboxId: "fp-1", templateId: "tpl" });
      const cases: Array<[string, string, Record<string, string>, Uint8Array | string]> = [
        ["ping of a running capsule", path("PingSandbox"), PROTO, ping("fp-1")],
        [
          "ping without the protocol header",
          path("PingSandbox"),
          { "content-type": "application/proto" },
          ping("fp-1"),
        ],
        ["unknown capsule", path("PingSandbox"), PROTO, ping("nope")],
        ["bad id", path("PingSandbox"), PROTO, ping("")],
        ["undecodable body", path("PingSandbox"), PROTO, new Uint8Array([0x0a, 0x05, 0x61])],
        ["a list with a body", path("ListSandboxes"), PROTO, new Uint8Array()],
        ["JSON (connect-node's)", path("PingSandbox"), { "content-type": "application/json" }, '{"sandboxId":"fp-1"}'],
        ["bad protocol version", path("PingSandbox"), { ...PROTO, "connect-protocol-version": "2" }, ping("fp-1")],
        ["bad timeout", path("PingSandbox"), { ...PROTO, "connect-timeout-ms": "soon" }, ping("fp-1")],
        ["unknown method", path("NoSuchMethod"), PROTO, ping("fp-1")],
      ];
      const viaFallback: string[] = [];
      for (const [what, p, headers, body] of cases) {
        const before = handedOver;
        const a = await post(fast.url, p, headers, body);
        if (handedOver > before) viaFallback.push(what);
        assert.deepEqual(a, await post(plain.url, p, headers, body), what);
      }
      assert.deepEqual(viaFallback, ["JSON (connect-node's)", "bad protocol version", "bad timeout", "unknown method"]);
    } finally {
      await fast[Symbol.asyncDispose]();
      await plain[Symbol.asyncDispose]();
    }
  });

  it("a client that hangs up mid-body costs nothing: the server goes on answering", async () => {
    await using h = await harness();
    await h.client.createSandbox({ sandboxId: "fp-3", templateId: "tpl" });
    const cut = request(`${h.baseUrl}${path("PingSandbox")}`, {
      method: "POST",
      headers: { ...PROTO, "content-length": "100" },
      agent: false,
    });
    const gone = new Promise((r) => cut.once("close", r));
    cut.on("error", () => undefined);
    cut.write(new Uint8Array([0x0a, 0x05]));
    cut.destroy();
    await gone;
    assert.equal((await post(h.baseUrl, path("PingSandbox"), PROTO, ping("fp-3"))).status, 200);
  });

  it("honours Connect-Timeout-Ms: the handler's signal aborts at the deadline", async () => {
    await using h = await harness();
    await h.client.createSandbox({ sandboxId: "fp-2", templateId: "tpl" });
    await rejectsWith(
      h.client.exec({ sandboxId: "fp-2", cmd: "/bin/sleep", args: ["30"] }, { timeoutMs: 300 }),
      Code.DeadlineExceeded,
      "exec past its deadline",
    );
    const body = toBinary(
      ExecRequestSchema,
      create(ExecRequestSchema, { sandboxId: "fp-2", cmd: "/bin/sleep", args: ["30"] }),
    );
    const answer = await post(h.baseUrl, path("Exec"), { ...PROTO, "connect-timeout-ms": "300" }, body);
    assert.equal(answer.status, 504);
    assert.equal(JSON.parse(answer.body).code, "deadline_exceeded");
    const left = await h.client.listProcesses({ sandboxId: "fp-2" });
    assert.deepEqual(
      left.processes.filter((p) => p.cmd === "/bin/sleep").map((p) => p.args),
      [],
      "the sleeps were killed",
    );
  });
});
