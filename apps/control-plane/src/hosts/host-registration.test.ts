import assert from "node:assert/strict";
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { PLATFORM_TEAM_ID, parsePublicId } from "../ids/public-id.js";
import { createTokensRepo } from "../tokens/tokens.repo.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo } from "./hosts.repo.js";
import { type HostsApp, type HostsTestSession, startHostsApp } from "./testing/hosts-app.js";

interface Credentials {
  host: { id: string; status: string; arch?: string; cpu_cores?: number; address?: string };
  token: string;
  refresh_token: string;
  cert_pem: string;
  key_pem: string;
  ca_cert_pem: string;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

function uuidOf(publicId: string): string {
  const parsed = parsePublicId("host", publicId);
  assert.ok(parsed.ok);
  return parsed.uuid;
}

describe("host agent endpoints: register, refresh, heartbeat", () => {
  let s: HostsApp;
  let admin: HostsTestSession;

  before(async () => {
    s = await startHostsApp();
    admin = await s.session({ isAdmin: true });
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  /** A new pending host and its registration token. */
  async function pendingHost(): Promise<{ id: string; token: string }> {
    const created = await body<{ host: { id: string }; registration_token: string }>(
      await s.call("/v1/hosts", { token: admin.token, json: { type: "regular" } }),
      201,
    );
    return { id: created.host.id, token: created.registration_token };
  }

  const register = (json: unknown) => s.call("/v1/hosts/register", { json });
  const facts = { address: "127.0.0.1:50123", arch: "amd64", cpu_cores: 8, memory_mb: 16384, disk_gb: 100 };
  const heartbeat = (hostId: string, token?: string) =>
    s.call(`/v1/hosts/${hostId}/heartbeat`, {
      method: "POST",
      ...(token === undefined ? {} : { headers: { "x-host-token": token } }),
    });

  test("registration: host JWT, refresh token and a server certificate for the advertised address", async () => {
    const pending = await pendingHost();
    const creds = await body<Credentials>(await register({ token: pending.token, ...facts }), 201);
    assert.equal(creds.host.id, pending.id);
    assert.deepEqual(
      [creds.host.status, creds.host.arch, creds.host.cpu_cores, creds.host.address],
      ["online", "amd64", 8, "127.0.0.1:50123"],
    );
    const verified = s.jwt.verifyHost(creds.token);
    assert.ok(verified.ok);
    assert.equal(verified.hostUuid, uuidOf(pending.id));
    assert.equal(verified.claims.exp - verified.claims.iat, 7 * 86400);
    assert.match(creds.refresh_token, /^[0-9a-f]{64}$/);

    assert.equal(creds.ca_cert_pem, s.ca.certPem);
    const cert = new X509Certificate(creds.cert_pem);
    assert.ok(cert.verify(new X509Certificate(s.ca.certPem).publicKey), "signed by the internal CA");
    assert.ok(cert.checkPrivateKey(createPrivateKey(creds.key_pem)), "the key belongs to the certificate");
    assert.equal(cert.subject, `CN=${pending.id}`);
    assert.equal(cert.subjectAltName, "IP Address:127.0.0.1");
    assert.ok(cert.checkIP("127.0.0.1"));

    const row = await createHostsRepo(s.db).getById(uuidOf(pending.id));
    assert.equal(row?.certFingerprint, createHash("sha256").update(cert.raw).digest("hex"));
    assert.equal(row?.certExpiresAt?.getTime(), new Date(cert.validTo).getTime());
    const records = await createHostTokensRepo(s.db).listRegistrationRecords(uuidOf(pending.id));
    assert.ok(records[0]?.usedAt instanceof Date, "the registration record is marked used");

    const replay = await register({ token: pending.token, ...facts });
    assert.equal((await body<{ error: { code: string } }>(replay, 401)).error.code, "unauthorized");
  });

  test("bad input spends nothing: an unusable address keeps the token valid", async () => {
    const pending = await pendingHost();
    for (const address of ["127.0.0.1:99999", "bad_name:50051", "[zz::1]:1"]) {
      assert.equal((await register({ token: pending.token, ...facts, address })).status, 400, address);
    }
    assert.equal((await register({ token: pending.token })).status, 400, "address is required");
    assert.equal((await register({ token: pending.token, ...facts, cpu_cores: "8" })).status, 400);
    assert.equal((await register({ token: "0".repeat(64), ...facts })).status, 401);
    assert.equal((await register({ token: pending.token, ...facts, address: "agent-1.internal:50051" })).status, 201);
  });

  test("a token for a host that is no longer pending gives 409 and registers nothing", async () => {
    const pending = await pendingHost();
    await body<Credentials>(await register({ token: pending.token, ...facts }), 201);
    const stray = await createTokensRepo(s.db).issue("host_registration", uuidOf(pending.id));
    const res = await register({ token: stray.token, ...facts, address: "10.9.9.9:1" });
    assert.equal((await body<{ error: { code: string } }>(res, 409)).error.code, "invalid_state");
    assert.equal((await createHostsRepo(s.db).getById(uuidOf(pending.id)))?.address, "127.0.0.1:50123");
  });

  test("an expired registration token is refused", async () => {
    const pending = await pendingHost();
    const expired = await createTokensRepo(s.db).issue("host_registration", uuidOf(pending.id), { ttlSeconds: -1 });
    assert.equal((await register({ token: expired.token, ...facts })).status, 401);
  });

  test("refresh: single-use rotation with a new JWT and a new certificate", async () => {
    const pending = await pendingHost();
    const first = await body<Credentials>(await register({ token: pending.token, ...facts }), 201);
    const refresh = (refresh_token: string) => s.call("/v1/hosts/auth/refresh", { json: { refresh_token } });
    const second = await body<Credentials>(await refresh(first.refresh_token), 200);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.cert_pem, first.cert_pem);
    assert.ok(s.jwt.verifyHost(second.token).ok);
    assert.equal(second.host.id, pending.id);
    const cert = new X509Certificate(second.cert_pem);
    assert.ok(cert.checkIP("127.0.0.1"));
    const row = await createHostsRepo(s.db).getById(uuidOf(pending.id));
    assert.equal(row?.certFingerprint, createHash("sha256").update(cert.raw).digest("hex"));

    assert.equal((await refresh(first.refresh_token)).status, 401, "the old refresh token is spent");
    assert.equal((await refresh("f".repeat(64))).status, 401);
    assert.equal((await refresh("")).status, 400);
    assert.equal((await refresh(second.refresh_token)).status, 200, "the rotated one works once");
  });

  test("heartbeat: 204 for its own host; 401 without a host token, 403 for another host, 404 once deleted", async () => {
    const a = await body<Credentials>(await register({ token: (await pendingHost()).token, ...facts }), 201);
    const b = await body<Credentials>(await register({ token: (await pendingHost()).token, ...facts }), 201);
    const hosts = createHostsRepo(s.db);
    const before = (await hosts.getById(uuidOf(a.host.id)))?.lastHeartbeatAt?.getTime() ?? 0;
    await new Promise((r) => setTimeout(r, 5));
    assert.equal((await heartbeat(a.host.id, a.token)).status, 204);
    assert.ok(((await hosts.getById(uuidOf(a.host.id)))?.lastHeartbeatAt?.getTime() ?? 0) > before);
    // What the agent sends: a JSON content type and no body.
    const asAgent = await s.call(`/v1/hosts/${a.host.id}/heartbeat`, {
      method: "POST",
      headers: { "x-host-token": a.token, "content-type": "application/json" },
    });
    assert.equal(asAgent.status, 204);

    assert.equal((await heartbeat(a.host.id)).status, 401);
    assert.equal((await heartbeat(a.host.id, "not-a-jwt")).status, 401);
    assert.equal((await heartbeat(a.host.id, admin.token)).status, 401, "a user JWT is no host token");
    assert.equal((await heartbeat(b.host.id, a.token)).status, 403);
    assert.equal((await heartbeat("host-nope", a.token)).status, 400);

    assert.equal(
      (await s.call(`/v1/hosts/${b.host.id}?force=true`, { method: "DELETE", token: admin.token })).status,
      204,
    );
    assert.equal((await heartbeat(b.host.id, b.token)).status, 404);
    assert.equal((await s.call("/v1/hosts/auth/refresh", { json: { refresh_token: b.refresh_token } })).status, 401);
  });

  test("a heartbeat brings an unreachable host back online and is audited (platform hosts too: B.11)", async () => {
    const creds = await body<Credentials>(await register({ token: (await pendingHost()).token, ...facts }), 201);
    const hosts = createHostsRepo(s.db);
    assert.ok(await hosts.markUnreachable(uuidOf(creds.host.id)));
    assert.equal((await heartbeat(creds.host.id, creds.token)).status, 204);
    assert.equal((await hosts.getById(uuidOf(creds.host.id)))?.status, "online");
    const entry = s.audit.entries.find((e) => e.resourceId === creds.host.id && e.action === "marked_up");
    assert.deepEqual(
      [entry?.teamId, entry?.actor.type, entry?.status, entry?.scope ?? "team"],
      [PLATFORM_TEAM_ID, "system", "success", "team"],
    );
    assert.equal((await heartbeat(creds.host.id, creds.token)).status, 204);
    assert.equal(s.audit.entries.filter((e) => e.resourceId === creds.host.id && e.action === "marked_up").length, 1);
  });
});
