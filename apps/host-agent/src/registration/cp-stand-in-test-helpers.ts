/**
 * A small, real HTTP server standing in for the control plane's three host endpoints
 * (inventory §5.15), until the control plane exists: one-time registration tokens, an HS256
 * host JWT, rotated refresh tokens and host certificates from a test CA. End-to-end tests
 * replace it with the real control plane. @internal
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TestCa } from "./test-certs-test-helpers.js";

/** What a registered host looks like to the stand-in. @internal */
export interface StandInHost {
  readonly id: string;
  readonly facts: Readonly<Record<string, unknown>>;
  refreshToken: string;
  heartbeats: number;
}

/** How the heartbeat endpoint behaves. @internal */
export type HeartbeatMode = "normal" | "down";

/** A running stand-in control plane. @internal */
export interface CpStandIn extends AsyncDisposable {
  readonly url: string;
  readonly ca: TestCa;
  readonly hosts: Map<string, StandInHost>;
  /** Calls per endpoint, in order. */
  readonly calls: string[];
  /** A one-time registration token. */
  issueToken(): string;
  /** Makes every JWT issued so far invalid (heartbeats answer 401 until a refresh). */
  expireTokens(): void;
  /** Forgets a host (its heartbeats answer 404). */
  deleteHost(id: string): void;
  /** `down`: connections are cut without an answer (a network failure for the agent). */
  heartbeatMode: HeartbeatMode;
  /** Refreshes answer 401 while set. */
  refuseRefresh: boolean;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
}

/** Starts the stand-in on 127.0.0.1:0. @internal */
export async function startCpStandIn(): Promise<CpStandIn> {
  const ca = await TestCa.create();
  const secret = randomBytes(32);
  const tokens = new Set<string>();
  const hosts = new Map<string, StandInHost>();
  const calls: string[] = [];
  let generation = 0;

  const sign = (hostId: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const head = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ typ: "host", host_id: hostId, sub: hostId, iat: now, exp: now + 7 * 86400, gen: generation })}`;
    return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
  };
  const verify = (jwt: string): string | undefined => {
    const [h, p, s] = jwt.split(".");
    if (!h || !p || !s || createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url") !== s) return undefined;
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as {
      host_id?: string;
      gen?: number;
      exp?: number;
    };
    if (claims.gen !== generation || (claims.exp ?? 0) < Date.now() / 1000) return undefined;
    return claims.host_id;
  };
  const grant = async (host: StandInHost, address: string) => {
    host.refreshToken = randomBytes(32).toString("hex");
    const leaf = await ca.issue(`host-${host.id.slice(0, 8)}`, "server", address.replace(/:\d+$/, ""));
    return {
      host: { id: host.id, status: "online", ...host.facts },
      token: sign(host.id),
      refresh_token: host.refreshToken,
      cert_pem: leaf.certPem,
      key_pem: leaf.keyPem,
      ca_cert_pem: ca.ca.certPem,
    };
  };

  const stand: CpStandIn = {
    url: "",
    ca,
    hosts,
    calls,
    heartbeatMode: "normal",
    refuseRefresh: false,
    issueToken() {
      const t = randomBytes(32).toString("hex");
      tokens.add(t);
      return t;
    },
    expireTokens() {
      generation++;
    },
    deleteHost(id) {
      hosts.delete(id);
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await ca[Symbol.asyncDispose]();
    },
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? "";
    void (async () => {
      if (req.method === "POST" && url === "/v1/hosts/register") {
        calls.push("register");
        const b = await json(req);
        const token = typeof b["token"] === "string" ? b["token"] : "";
        const address = typeof b["address"] === "string" ? b["address"] : "";
        if (!tokens.delete(token))
          return send(res, 401, { code: "unauthorized", message: "invalid or expired registration token" });
        if (!/^[^:]+:\d+$/.test(address))
          return send(res, 400, { code: "invalid_request", message: "address is required" });
        const { token: _t, ...facts } = b;
        const host: StandInHost = { id: randomUUID(), facts, refreshToken: "", heartbeats: 0 };
        hosts.set(host.id, host);
        return send(res, 201, await grant(host, address));
      }
      if (req.method === "POST" && url === "/v1/hosts/auth/refresh") {
        calls.push("refresh");
        const b = await json(req);
        const host = [...hosts.values()].find((h) => h.refreshToken !== "" && h.refreshToken === b["refresh_token"]);
        if (!host || stand.refuseRefresh)
          return send(res, 401, { code: "unauthorized", message: "invalid refresh token" });
        return send(res, 200, await grant(host, String(host.facts["address"] ?? "127.0.0.1:1")));
      }
      const hb = /^\/v1\/hosts\/([^/]+)\/heartbeat$/.exec(url);
      if (req.method === "POST" && hb) {
        calls.push("heartbeat");
        if (stand.heartbeatMode === "down") {
          req.socket.destroy();
          return;
        }
        const tokenHost = verify(String(req.headers["x-host-token"] ?? ""));
        if (!tokenHost) return send(res, 401, { code: "unauthorized", message: "invalid host token" });
        if (tokenHost !== hb[1]) return send(res, 403, { code: "forbidden", message: "host id mismatch" });
        const host = hosts.get(tokenHost);
        if (!host) return send(res, 404, { code: "not_found", message: "host not found" });
        host.heartbeats++;
        return send(res, 204);
      }
      send(res, 404, { code: "not_found", message: "no such route" });
    })().catch(() => res.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return Object.assign(stand, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
