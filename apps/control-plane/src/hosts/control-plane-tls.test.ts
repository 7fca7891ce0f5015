import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { ManualClock } from "@wrenn/kit";
import { newPublicId } from "../ids/public-id.js";
import { InternalCa } from "../pki/internal-ca.js";
import { ControlPlaneTls } from "./control-plane-tls.js";
import { HostClientPool } from "./host-client-pool.js";

const HOUR = 3_600_000;

describe("ControlPlaneTls", () => {
  test("the same material until renewal at half-life, then a new client certificate", async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000; // certificates keep whole seconds
    const ca = await InternalCa.create({ now: t0 - HOUR });
    const clock = new ManualClock(t0);
    using tls = await ControlPlaneTls.start(ca, { clock });
    const first = tls.current;
    assert.equal(tls.current, first, "stable identity: the pool keeps its connections");
    assert.equal(first.caPem, ca.certPem);
    const cert = new X509Certificate(first.certPem);
    assert.equal(cert.subject, "CN=wrenn-cp");
    assert.equal(tls.notAfter.getTime(), t0 + 24 * HOUR);

    await clock.advance(12 * HOUR);
    await tls.whenIdle();
    assert.notEqual(tls.current, first);
    assert.notEqual(tls.current.certPem, first.certPem);
    assert.equal(tls.notAfter.getTime(), t0 + 36 * HOUR);
  });

  test("the pool presents it to an agent that requires a client certificate from the CA", async () => {
    const ca = await InternalCa.create();
    const hostCert = await ca.issueHostCert({ hostId: newPublicId("host").id, address: "127.0.0.1:1" });
    let peer = "";
    const server = createServer(
      { cert: hostCert.certPem, key: hostCert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        peer = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? "");
        res.end("ok");
      },
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    using tls = await ControlPlaneTls.start(ca);
    await using pool = new HostClientPool({ tls: () => tls.current });
    try {
      assert.equal(pool.scheme, "https");
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        request({ host: "127.0.0.1", port, path: "/", agent: pool.proxyAgent() }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on("error", reject)
          .end();
      });
      assert.equal(status, 200);
      assert.equal(peer, "wrenn-cp");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
