/**
 * WebSockets through the subdomain proxy to a host agent that registered with the control
 * plane and serves mTLS: the control plane dials the agent's proxy thread (the port the agent
 * names at /proxy-listener) with its client certificate, the agent relays the upgrade to a
 * real WebSocket echo server in a real capsule, and frames flow both ways.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { AgentHome } from "./agent-home.js";
import { type ControlPlaneStack, json, stackSkipReason, startControlPlaneStack } from "./stack.js";

const WS_PORT = 8090;
/**
 * A dependency-free WebSocket echo server for the capsule's Node (RFC 6455: handshake, masked
 * client frames of any length, unmasked echo of text and binary, close).
 */
const ECHO_SERVER = `const c=require("node:crypto");require("node:http").createServer((q,s)=>s.end("ok")).on("upgrade",(q,k)=>{const a=c.createHash("sha1").update(q.headers["sec-websocket-key"]+"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");k.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: "+a+"\\r\\n\\r\\n");let b=Buffer.alloc(0);k.on("data",d=>{b=Buffer.concat([b,d]);for(;;){if(b.length<2)return;const op=b[0]&15;let n=b[1]&127,o=2;if(n===126){if(b.length<4)return;n=b.readUInt16BE(2);o=4}else if(n===127){if(b.length<10)return;n=Number(b.readBigUInt64BE(2));o=10}if(b.length<o+4+n)return;const m=b.subarray(o,o+4),p=Buffer.from(b.subarray(o+4,o+4+n));for(let i=0;i<n;i++)p[i]^=m[i&3];b=b.subarray(o+4+n);if(op===8){k.end();return}let h;if(n<126)h=Buffer.from([128|op,n]);else if(n<65536)h=Buffer.from([128|op,126,n>>8,n&255]);else{h=Buffer.alloc(10);h[0]=128|op;h[1]=127;h.writeBigUInt64BE(BigInt(n),2)}k.write(Buffer.concat([h,p]))}})}).listen(${WS_PORT},"0.0.0.0")`;

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Opens a WebSocket to the capsule through the control plane; rejects on a refused upgrade. */
function open(cpPort: number, capsuleId: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${cpPort}/echo`, { headers: { host: `${WS_PORT}-${capsuleId}.localhost` } });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

describe("WebSocket through the subdomain proxy to an mTLS agent's proxy thread", { skip: stackSkipReason }, () => {
  let s: ControlPlaneStack;
  let home: AgentHome;
  let capsuleId: string;

  before(async () => {
    s = await startControlPlaneStack({ mtls: true });
    home = await AgentHome.create();
    const created = await body<{ registration_token: string }>(
      await s.api("/v1/hosts", {
        ...json({ type: "regular", provider: "e2e" }),
        headers: { "content-type": "application/json", authorization: `Bearer ${s.admin.token}` },
      }),
      201,
    );
    await home.start(s.base, created.registration_token);
    capsuleId = (await body<{ id: string }>(await s.api("/v1/capsules", json({ timeout_sec: 0 })), 201)).id;
    const started = await s.api(
      `/v1/capsules/${capsuleId}/exec`,
      json({ cmd: "/usr/local/bin/node", args: ["-e", ECHO_SERVER], background: true }),
    );
    await body(started, 202);
  });
  after(async () => {
    await home?.[Symbol.asyncDispose]();
    await s?.[Symbol.asyncDispose]();
  });

  test("text and binary frames (small, 64 KiB, 300 KiB) echo over mTLS", { timeout: 60_000 }, async () => {
    let ws: WebSocket | undefined;
    // The server starts in the background: until it listens the agent answers 502.
    for (let i = 0; ws === undefined; i++) {
      ws = await open(s.port, capsuleId).catch((err: unknown) => {
        if (i >= 100 || !/answered 502/.test(String(err))) throw err;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 100));
      });
    }
    const got: (string | Buffer)[] = [];
    const sent: (string | Buffer)[] = [
      "hello",
      Buffer.from([0, 255, 1, 254]),
      "k".repeat(65_536),
      Buffer.alloc(300_000, 7),
    ];
    const all = new Promise<void>((resolve, reject) => {
      ws.on("message", (data: Buffer, binary) => {
        got.push(binary ? data : data.toString());
        if (got.length === sent.length) resolve();
      });
      ws.on("error", reject);
    });
    for (const m of sent) ws.send(m);
    await all;
    assert.deepEqual(got, sent);
    ws.close();

    // It went to the agent's proxy thread: the control plane learnt a port other than the
    // agent's RPC port, and that port serves the capsule to the control plane's certificate only.
    const proxyAddress = await s.cp.proxy.proxyPorts.proxyAddress(home.address);
    const proxyPort = Number(proxyAddress.split(":").pop());
    assert.notEqual(proxyPort, home.port);
    const plain = await new Promise<string>((resolve, reject) => {
      request(
        { host: "127.0.0.1", port: proxyPort, path: `/proxy/${capsuleId}/${WS_PORT}/`, agent: s.pool.proxyAgent() },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        },
      )
        .on("error", reject)
        .end();
    });
    assert.equal(plain, "200 ok");
    const refused = await new Promise<string>((resolve) => {
      request({ host: "127.0.0.1", port: proxyPort, path: "/", ca: s.ca.certPem, agent: false }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      })
        .on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
        .end();
    });
    assert.doesNotMatch(refused, /^answered/, "no client certificate, no answer");
  });
});
