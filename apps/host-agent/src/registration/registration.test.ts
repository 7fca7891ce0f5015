import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { envdSkip, input, testManager, until } from "../sandboxes/sandbox-test-helpers.js";
import { ControlPlaneClient } from "./cp-client.js";
import { startCpStandIn } from "./cp-stand-in-test-helpers.js";
import { type HostCredentials, loadCredentials, parseCredentials, saveCredentials } from "./credentials.js";
import { HeartbeatLoop } from "./heartbeat.js";
import { readHostFacts } from "./host-facts.js";

async function tempDir(): Promise<string & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-reg-"));
  return Object.assign(dir, { [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) }) as never;
}

describe("registration against a stand-in control plane", () => {
  it("registers once per token and saves the credentials with mode 0600", async () => {
    await using cp = await startCpStandIn();
    await using dir = await tempDir();
    const client = new ControlPlaneClient({ baseUrl: cp.url });
    const token = cp.issueToken();
    const facts = await readHostFacts(String(dir));
    assert.ok(facts.cpu_cores > 0 && facts.memory_mb > 0 && facts.disk_gb > 0, JSON.stringify(facts));
    assert.equal(facts.arch, process.arch === "x64" ? "amd64" : process.arch);
    const creds = await client.register(token, facts, "127.0.0.1:50051");
    const host = cp.hosts.get(creds.host_id);
    assert.deepEqual(host?.facts, { ...facts, address: "127.0.0.1:50051" });
    assert.match(creds.jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(new X509Certificate(creds.cert_pem).checkIssued(new X509Certificate(creds.ca_cert_pem)));
    const path = join(String(dir), "host-credentials.json");
    await saveCredentials(path, creds);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await loadCredentials(path), creds);

    // The token is one-time; the refusal names no secret.
    await assert.rejects(client.register(token, facts, "127.0.0.1:50051"), (e: unknown) => {
      assert.ok(e instanceof PlatformError && e.code === "unauthenticated", String(e));
      assert.doesNotMatch(e.message, new RegExp(token));
      return true;
    });
    assert.equal(await loadCredentials(join(String(dir), "absent.json")), undefined);
  });

  it("reads legacy files holding only the JWT and refuses broken ones without echoing them", () => {
    const payload = Buffer.from(JSON.stringify({ typ: "host", host_id: "h-1" })).toString("base64url");
    const legacy = parseCredentials(`e30.${payload}.sig\n`);
    assert.deepEqual([legacy.host_id, legacy.refresh_token, legacy.cert_pem], ["h-1", "", ""]);
    assert.throws(
      () => parseCredentials('{"host_id": "h", "jwt": 42, "secret": "s3cr3t"}'),
      (e: unknown) => e instanceof PlatformError && !e.message.includes("s3cr3t"),
    );
    assert.throws(() => parseCredentials("not a jwt"), PlatformError);
  });
});

describe("heartbeat loop", { skip: envdSkip }, () => {
  async function registered(cp: Awaited<ReturnType<typeof startCpStandIn>>, dir: string) {
    const client = new ControlPlaneClient({ baseUrl: cp.url });
    const creds = await client.register(cp.issueToken(), await readHostFacts(dir), "127.0.0.1:50051");
    const path = join(dir, "host-credentials.json");
    await saveCredentials(path, creds);
    return { client, creds, path };
  }

  it("refreshes on 401 (saved, certificate handed over), pauses capsules once per outage and reports them auto-paused", async () => {
    await using cp = await startCpStandIn();
    await using dir = await tempDir();
    await using tm = await testManager({ reaperIntervalMs: 60_000 });
    const { client, creds, path } = await registered(cp, String(dir));
    await tm.mgr.create(input("sb-hb1"));
    const swapped: HostCredentials[] = [];
    let gone = 0;
    await using loop = new HeartbeatLoop({
      client,
      credentials: creds,
      credentialsPath: path,
      pauseAll: () => tm.mgr.pauseAll(),
      onCredentials: (c) => swapped.push(c),
      onGone: () => gone++,
      intervalMs: 20,
    });
    loop.start();
    const host = cp.hosts.get(creds.host_id);
    assert.ok(await until(() => (host?.heartbeats ?? 0) >= 2, 3000), "heartbeats arrive");

    cp.expireTokens();
    assert.ok(await until(() => swapped.length === 1, 3000), "token refreshed after a 401");
    const saved = await loadCredentials(path);
    assert.notEqual(saved?.jwt, creds.jwt);
    assert.notEqual(saved?.refresh_token, creds.refresh_token);
    assert.notEqual(saved?.cert_pem, creds.cert_pem);
    assert.deepEqual(saved, swapped[0]);
    const before = host?.heartbeats ?? 0;
    assert.ok(await until(() => (host?.heartbeats ?? 0) > before + 1, 3000), "heartbeats go on with the new token");

    cp.heartbeatMode = "down";
    assert.ok(await until(() => tm.mgr.get("sb-hb1").status === "paused", 5000), "paused after 3 failures");
    assert.ok(loop.failures >= 3);
    assert.deepEqual(tm.mgr.drainAutoPaused(), ["sb-hb1"], "reported as auto-paused (Appendix B.5)");
    await tm.mgr.resume("sb-hb1");
    const failures = loop.failures;
    assert.ok(await until(() => loop.failures >= failures + 3, 3000));
    assert.equal(tm.mgr.get("sb-hb1").status, "running", "paused only once per outage");

    cp.heartbeatMode = "normal";
    assert.ok(await until(() => loop.failures === 0, 3000), "recovered");
    cp.heartbeatMode = "down";
    assert.ok(await until(() => tm.mgr.get("sb-hb1").status === "paused", 5000), "a new outage pauses again");
    assert.deepEqual(tm.mgr.drainAutoPaused(), ["sb-hb1"]);
    assert.equal(gone, 0);
    assert.equal(loop.state, "running");
  });

  it("404 deletes the credentials and asks for shutdown; a refused refresh pauses everything and stops", async () => {
    await using cp = await startCpStandIn();
    await using dir = await tempDir();
    await using tm = await testManager({ reaperIntervalMs: 60_000 });
    {
      const { client, creds, path } = await registered(cp, String(dir));
      let gone = 0;
      await using loop = new HeartbeatLoop({
        client,
        credentials: creds,
        credentialsPath: path,
        pauseAll: () => tm.mgr.pauseAll(),
        onGone: () => gone++,
        intervalMs: 20,
      });
      loop.start();
      cp.deleteHost(creds.host_id);
      assert.ok(await until(() => gone === 1, 3000));
      assert.equal(loop.state, "gone");
      assert.equal(await loadCredentials(path), undefined, "credentials deleted");
    }
    {
      const { client, creds, path } = await registered(cp, String(dir));
      await tm.mgr.create(input("sb-hb2"));
      await using loop = new HeartbeatLoop({
        client,
        credentials: creds,
        credentialsPath: path,
        pauseAll: () => tm.mgr.pauseAll(),
        onGone: () => assert.fail("not gone"),
        intervalMs: 20,
      });
      loop.start();
      cp.refuseRefresh = true;
      cp.expireTokens();
      assert.ok(await until(() => loop.state === "refresh-failed", 3000));
      assert.ok(await until(() => tm.mgr.get("sb-hb2").status === "paused", 3000));
      assert.deepEqual(tm.mgr.drainAutoPaused(), ["sb-hb2"]);
      const n = cp.calls.length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(cp.calls.length, n, "no heartbeat after a failed refresh");
      assert.deepEqual(JSON.parse(await readFile(path, "utf8")).jwt, creds.jwt, "file unchanged");
    }
  });
});
