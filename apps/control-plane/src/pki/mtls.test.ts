// End to end over real TLS sockets on loopback: a host agent style server
// (host certificate, client certificates required from the CA, TLS 1.3 only)
// and the control plane style client (its wrenn-cp certificate).
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { before, describe, it } from "node:test";
import type { SecureVersion, TLSSocket } from "node:tls";
import { newPublicId } from "../ids/public-id.js";
import { InternalCa, type IssuedCertificate } from "./internal-ca.js";

const DAY = 86_400_000;

interface TestServer extends AsyncDisposable {
  readonly port: number;
  readonly peers: string[];
  readonly tlsErrors: Promise<[Error]>;
}

/**
 * An HTTPS server like a host agent's: answers with the client certificate's CN.
 * With `strict: false` it completes handshakes with unverified clients and
 * answers with Node's verification error instead, so a test can show *why*
 * the strict server refuses a certificate (Node destroys such sockets without
 * saying why).
 */
async function startAgentLikeServer(ca: InternalCa, host: IssuedCertificate, strict = true): Promise<TestServer> {
  const peers: string[] = [];
  const server = createServer(
    {
      cert: host.certPem,
      key: host.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: strict,
      minVersion: "TLSv1.3",
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const cn = String(socket.getPeerCertificate().subject?.CN ?? "");
      peers.push(cn);
      res.end(socket.authorized ? `hello ${cn}` : `unverified: ${String(socket.authorizationError)}`);
    },
  );
  const tlsErrors = once(server, "tlsClientError") as Promise<[Error]>;
  // Keep a rejection-free handle: tests that expect no error never await it.
  tlsErrors.catch(() => {});
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    tlsErrors,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** What a non-enforcing server says about a client certificate. */
async function verificationErrorFor(ca: InternalCa, host: IssuedCertificate, tls: ClientTls): Promise<string> {
  await using probe = await startAgentLikeServer(ca, host, false);
  return (await get(probe.port, tls)).body;
}

interface ClientTls {
  readonly ca: string;
  readonly checkServerIdentity?: () => undefined;
  readonly cert?: string;
  readonly key?: string;
  readonly maxVersion?: SecureVersion;
}

/** One GET over a fresh connection (no agent, so no connection reuse between cases). */
function get(port: number, tls: ClientTls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 10_000, ...tls }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("mTLS between a host certificate and the control plane client certificate", { timeout: 60_000 }, () => {
  let ca: InternalCa;
  let otherCa: InternalCa;
  let hostCert: IssuedCertificate;
  let clientCert: IssuedCertificate;

  before(async () => {
    [ca, otherCa] = await Promise.all([InternalCa.create(), InternalCa.create({ commonName: "Other CA" })]);
    hostCert = await ca.issueHostCert({ hostId: newPublicId("host").id, address: "127.0.0.1:50051" });
    clientCert = await ca.issueClientCert();
  });

  it("accepts the control plane's client certificate (200)", async () => {
    await using server = await startAgentLikeServer(ca, hostCert);
    const res = await get(server.port, { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem });
    assert.deepEqual(res, { status: 200, body: "hello wrenn-cp" });
    assert.deepEqual(server.peers, ["wrenn-cp"]);
  });

  it("fails the handshake without a client certificate", async () => {
    await using server = await startAgentLikeServer(ca, hostCert);
    await assert.rejects(get(server.port, { ca: ca.certPem }));
    const [err] = await server.tlsErrors;
    assert.match(err.message, /peer did not return a certificate/);
    assert.deepEqual(server.peers, []);
  });

  it("fails the handshake with a client certificate from another CA", async () => {
    await using server = await startAgentLikeServer(ca, hostCert);
    const foreign = await otherCa.issueClientCert();
    const tls = { ca: ca.certPem, cert: foreign.certPem, key: foreign.keyPem };
    await assert.rejects(get(server.port, tls));
    assert.deepEqual(server.peers, []);
    assert.equal(await verificationErrorFor(ca, hostCert, tls), "unverified: UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("fails the handshake with an expired client certificate", async () => {
    await using server = await startAgentLikeServer(ca, hostCert);
    const expired = await ca.issueClientCert({ now: Date.now() - 2 * DAY });
    assert.ok(expired.notAfter.getTime() < Date.now());
    const tls = { ca: ca.certPem, cert: expired.certPem, key: expired.keyPem };
    await assert.rejects(get(server.port, tls));
    assert.deepEqual(server.peers, []);
    assert.equal(await verificationErrorFor(ca, hostCert, tls), "unverified: CERT_HAS_EXPIRED");
  });

  it("refuses another host's server certificate as a client certificate (EKU is enforced)", async () => {
    // A compromised host must not be able to call other hosts as if it were the control plane.
    await using server = await startAgentLikeServer(ca, hostCert);
    const otherHost = await ca.issueHostCert({ hostId: newPublicId("host").id, address: "127.0.0.1:50051" });
    const tls = { ca: ca.certPem, cert: otherHost.certPem, key: otherHost.keyPem };
    await assert.rejects(get(server.port, tls));
    assert.deepEqual(server.peers, []);
    assert.equal(await verificationErrorFor(ca, hostCert, tls), "unverified: INVALID_PURPOSE");
  });

  it("refuses the client certificate as a server certificate", async () => {
    await using server = await startAgentLikeServer(ca, clientCert);
    // Name checks off, so only the chain and its purpose decide.
    const tls = {
      ca: ca.certPem,
      cert: clientCert.certPem,
      key: clientCert.keyPem,
      checkServerIdentity: () => undefined,
    };
    await assert.rejects(get(server.port, tls), { code: "INVALID_PURPOSE" });
    assert.deepEqual(server.peers, []);
  });

  it("refuses clients that cannot speak TLS 1.3", async () => {
    await using server = await startAgentLikeServer(ca, hostCert);
    const tls = { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem, maxVersion: "TLSv1.2" as const };
    await assert.rejects(get(server.port, tls));
    const [err] = await server.tlsErrors;
    assert.match(err.message, /unsupported protocol/);
    assert.deepEqual(server.peers, []);
  });

  it("lets the client verify the host: foreign CA and wrong IP SAN are refused", async () => {
    const tls = { cert: clientCert.certPem, key: clientCert.keyPem };
    {
      await using server = await startAgentLikeServer(ca, hostCert);
      // The server sends its chain up to the CA (it is in its `ca`), which this client does not trust.
      await assert.rejects(get(server.port, { ...tls, ca: otherCa.certPem }), { code: "SELF_SIGNED_CERT_IN_CHAIN" });
    }
    const elsewhere = await ca.issueHostCert({ hostId: newPublicId("host").id, address: "10.9.9.9:50051" });
    await using server = await startAgentLikeServer(ca, elsewhere);
    await assert.rejects(get(server.port, { ...tls, ca: ca.certPem }), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    assert.deepEqual(server.peers, []);
  });
});
