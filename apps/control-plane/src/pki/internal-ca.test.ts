import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { newPublicId } from "../ids/public-id.js";
import { CA_CERT_FILE, CA_KEY_FILE, InternalCa, type IssuedCertificate } from "./internal-ca.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** Checks a leaf with Node's own X.509 parser (OpenSSL), independent of the library that wrote it. */
function inspectLeaf(issued: IssuedCertificate, ca: InternalCa): X509Certificate {
  const cert = new X509Certificate(issued.certPem);
  const caCert = new X509Certificate(ca.certPem);
  assert.ok(cert.checkIssued(caCert), "issued by the CA");
  assert.ok(cert.verify(caCert.publicKey), "signature verifies with the CA key");
  assert.equal(cert.ca, false);
  assert.equal(issued.fingerprint, cert.fingerprint256.replaceAll(":", "").toLowerCase());
  const keyFromPem = createPublicKey(createPrivateKey(issued.keyPem)).export({ type: "spki", format: "der" });
  assert.ok(keyFromPem.equals(cert.publicKey.export({ type: "spki", format: "der" })), "key matches certificate");
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  assert.match(issued.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(new Date(cert.validTo).getTime(), issued.notAfter.getTime());
  return cert;
}

function reasonOf(err: unknown): string | undefined {
  return err instanceof PlatformError ? err.reason : undefined;
}

describe("InternalCa", () => {
  let ca: InternalCa;
  const host = newPublicId("host");
  before(async () => {
    ca = await InternalCa.create();
  });

  it("creates a self-signed P-256 CA valid for 10 years", () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.equal(cert.subject, "CN=Wrenn Internal CA");
    assert.ok(cert.checkIssued(cert) && cert.verify(cert.publicKey));
    const years = (new Date(cert.validTo).getTime() - Date.now()) / (365.25 * DAY);
    assert.ok(years > 9.99 && years < 10.01, `${years} years`);
    assert.equal(ca.fingerprint, cert.fingerprint256.replaceAll(":", "").toLowerCase());
  });

  it("issues a host server certificate with an IP SAN for an IP address", async () => {
    const now = Date.now();
    const issued = await ca.issueHostCert({ hostId: host.id, address: "10.11.12.13:50051" }, { now });
    const cert = inspectLeaf(issued, ca);
    assert.equal(cert.subject, `CN=${host.id}`);
    assert.equal(cert.subjectAltName, "IP Address:10.11.12.13");
    assert.equal(cert.checkIP("10.11.12.13"), "10.11.12.13");
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    assert.equal(issued.notAfter.getTime(), Math.floor((now + 7 * DAY) / 1000) * 1000);
    assert.ok(issued.notBefore.getTime() < now, "backdated for clock skew");
  });

  it("issues a host server certificate with a DNS SAN for a name", async () => {
    const issued = await ca.issueHostCert({ hostId: host.id, address: "Agent-7.Internal:50051" });
    const cert = inspectLeaf(issued, ca);
    assert.equal(cert.subjectAltName, "DNS:agent-7.internal");
    assert.equal(cert.checkHost("agent-7.internal"), "agent-7.internal");
  });

  it("issues the control plane client certificate for 24 hours", async () => {
    const now = Date.now();
    const issued = await ca.issueClientCert({ now });
    const cert = inspectLeaf(issued, ca);
    assert.equal(cert.subject, "CN=wrenn-cp");
    assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    assert.equal(issued.notAfter.getTime(), Math.floor((now + DAY) / 1000) * 1000);
  });

  it("gives every certificate its own key and serial", async () => {
    const [a, b] = await Promise.all([ca.issueClientCert(), ca.issueClientCert()]);
    assert.notEqual(a.keyPem, b.keyPem);
    assert.notEqual(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
  });

  it("refuses bad host ids and addresses", async () => {
    assert.throws(() => ca.issueHostCert({ hostId: newPublicId("user").id, address: "10.0.0.1" }), TypeError);
    assert.throws(
      () => ca.issueHostCert({ hostId: host.id, address: "not an address" }),
      (e) => reasonOf(e) === "HOST_ADDRESS_INVALID",
    );
  });

  it("never issues past its own expiry", async () => {
    const old = await InternalCa.create({ now: Date.now() - 3650 * DAY });
    const issued = await old.issueHostCert({ hostId: host.id, address: "10.0.0.1" });
    assert.equal(issued.notAfter.getTime(), old.notAfter.getTime());
  });
});

describe("InternalCa.fromPem", () => {
  let ca: InternalCa;
  let keyPem: string;
  before(async () => {
    ca = await InternalCa.create();
    keyPem = await ca.exportKeyPem();
  });

  it("loads PKCS#8 and SEC1 keys and issues certificates the original CA vouches for", async () => {
    const sec1 = createPrivateKey(keyPem).export({ type: "sec1", format: "pem" }).toString();
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    for (const key of [keyPem, sec1]) {
      const loaded = await InternalCa.fromPem(ca.certPem, key);
      assert.equal(loaded.fingerprint, ca.fingerprint);
      inspectLeaf(await loaded.issueClientCert(), ca);
    }
  });

  it("explains what is wrong without echoing key material", async () => {
    const other = await InternalCa.create();
    const leaf = await ca.issueClientCert();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const encrypted = createPrivateKey(keyPem)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
      .toString();
    const expired = await InternalCa.create({ now: Date.now() - 3660 * DAY });
    const cases: Array<[string, string, string]> = [
      [ca.certPem, await other.exportKeyPem(), "CA_KEY_MISMATCH"],
      [leaf.certPem, leaf.keyPem, "CA_CERT_INVALID"],
      ["not a certificate", keyPem, "CA_CERT_INVALID"],
      ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", keyPem, "CA_CERT_INVALID"],
      [ca.certPem + other.certPem, keyPem, "CA_CERT_INVALID"],
      [ca.certPem, "garbage", "CA_KEY_INVALID"],
      [ca.certPem, rsa, "CA_KEY_INVALID"],
      [ca.certPem, encrypted, "CA_KEY_INVALID"],
      [expired.certPem, await expired.exportKeyPem(), "CA_EXPIRED"],
    ];
    for (const [cert, key, reason] of cases) {
      await assert.rejects(InternalCa.fromPem(cert, key), (e) => {
        assert.equal(reasonOf(e), reason);
        assert.ok(e instanceof Error && !e.message.includes("-----") && !e.message.includes("AAAA"));
        return true;
      });
    }
  });
});

describe("InternalCa.ensure", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wrenn-ca-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates the CA files once (0600, directory 0700) and reuses them", async () => {
    const dir = join(root, "fresh", "pki");
    const first = await InternalCa.ensure(dir);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const file of [CA_CERT_FILE, CA_KEY_FILE]) assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(dir, CA_CERT_FILE), "utf8"), first.certPem);
    const second = await InternalCa.ensure(dir);
    assert.equal(second.fingerprint, first.fingerprint);
    inspectLeaf(await second.issueClientCert(), first);
  });

  it("refuses a directory holding only one of the two files", async () => {
    const dir = join(root, "half");
    const ca = await InternalCa.ensure(dir);
    await rm(join(dir, CA_KEY_FILE));
    await assert.rejects(InternalCa.ensure(dir), (e) => reasonOf(e) === "CA_FILES_INCOMPLETE");
    await rm(join(dir, CA_CERT_FILE));
    await writeFile(join(dir, CA_KEY_FILE), await ca.exportKeyPem(), { mode: 0o600 });
    await assert.rejects(InternalCa.ensure(dir), (e) => reasonOf(e) === "CA_FILES_INCOMPLETE");
  });
});
