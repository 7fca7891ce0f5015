/**
 * The internal certificate authority behind control plane ↔ host agent mTLS.
 *
 * Host agents serve TLS with a short-lived server certificate issued at
 * registration (and re-issued on credential refresh) and accept only clients
 * holding a certificate from this CA; the control plane dials them with its
 * own short-lived client certificate. Everything is ECDSA P-256 / SHA-256.
 * Leaf lifetimes are clamped to the CA's own expiry so no chain is issued that
 * stops verifying before its certificate does.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { parsePublicId } from "../ids/public-id.js";
import { subjectAltNameForAddress } from "./host-address.js";
import {
  type CryptoKey,
  crypto,
  EC_P256,
  fingerprintOfDer,
  generateP256,
  loadP256PrivateKey,
  privateKeyToPem,
} from "./keys.js";
import * as x509 from "./x509.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** CA lifetime: 10 years. */
export const CA_LIFETIME_MS = 3652 * DAY;
/** Host server certificate lifetime: 7 days (agents refresh well before). */
export const HOST_CERT_LIFETIME_MS = 7 * DAY;
/** Control plane client certificate lifetime: 24 hours (renewed at half-life). */
export const CLIENT_CERT_LIFETIME_MS = DAY;
/** Leaf certificates start this much in the past, so a peer whose clock is a little behind accepts them. */
export const BACKDATE_MS = 5 * MINUTE;

/** The common name of the control plane's client certificate. */
export const CONTROL_PLANE_CLIENT_CN = "wrenn-cp";

/** A leaf certificate with its new private key. */
export interface IssuedCertificate {
  /** The certificate, PEM. */
  readonly certPem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** Lowercase hex SHA-256 of the certificate's DER. */
  readonly fingerprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Per-issuance options (tests use `now` to make certificates that are expired or not yet valid). */
export interface IssueOptions {
  /** Issue as if the time were this (ms since the epoch). @default Date.now() */
  readonly now?: number;
}

/** File names used by {@link InternalCa.ensure}. */
export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes a 0600 file under a temporary name, then renames it into place (no partial file is ever visible). */
async function writeNewFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600, flag: "wx" });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

function invalidCa(reason: string, message: string, cause?: unknown): PlatformError {
  return new PlatformError("failed_precondition", reason, message, { cause });
}

function randomSerial(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  // Positive and without a leading zero byte: RFC 5280 serials are positive integers.
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 1;
  return Buffer.from(bytes).toString("hex");
}

/** An internal CA able to issue host server certificates and the control plane's client certificate. */
export class InternalCa {
  /** The CA certificate, PEM: what both sides trust (sent to agents as `ca_cert_pem`). */
  readonly certPem: string;
  /** Lowercase hex SHA-256 of the CA certificate's DER. */
  readonly fingerprint: string;
  readonly #cert: x509.X509Certificate;
  readonly #key: CryptoKey;

  private constructor(cert: x509.X509Certificate, key: CryptoKey) {
    this.#cert = cert;
    this.#key = key;
    this.certPem = cert.toString("pem");
    this.fingerprint = fingerprintOfDer(cert.rawData);
  }

  /** When the CA itself expires. */
  get notAfter(): Date {
    return this.#cert.notAfter;
  }

  /** Creates a new self-signed CA valid for 10 years. */
  static async create(options: IssueOptions & { readonly commonName?: string } = {}): Promise<InternalCa> {
    const now = options.now ?? Date.now();
    const keys = await generateP256();
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name: [{ CN: [options.commonName ?? "Wrenn Internal CA"] }],
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(now + CA_LIFETIME_MS),
        signingAlgorithm: EC_P256,
        keys,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return new InternalCa(cert, keys.privateKey);
  }

  /**
   * Loads a CA from its certificate PEM and private key PEM (PKCS#8, or SEC1
   * `EC PRIVATE KEY` as the reference's `WRENN_CA_KEY` was).
   *
   * @throws PlatformError `failed_precondition` with reason `CA_CERT_INVALID`,
   * `CA_KEY_INVALID`, `CA_KEY_MISMATCH` or `CA_EXPIRED`, whose message says what to fix.
   */
  static async fromPem(certPem: string, keyPem: string, options: IssueOptions = {}): Promise<InternalCa> {
    const blocks = certPem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
    if (blocks !== 1) throw invalidCa("CA_CERT_INVALID", "the CA certificate must be exactly one PEM certificate");
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(certPem);
    } catch (err) {
      throw invalidCa("CA_CERT_INVALID", "the CA certificate is not a valid PEM certificate", err);
    }
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca)
      throw invalidCa("CA_CERT_INVALID", "the certificate is not a CA (basicConstraints cA is not set)");
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
      throw invalidCa("CA_CERT_INVALID", "the CA certificate's key usage does not allow signing certificates");
    }
    const key = await loadP256PrivateKey(keyPem);
    if (!Buffer.from(cert.publicKey.rawData).equals(key.publicKeySpki)) {
      throw invalidCa("CA_KEY_MISMATCH", "the CA private key does not belong to the CA certificate");
    }
    const now = options.now ?? Date.now();
    if (now < cert.notBefore.getTime() || now > cert.notAfter.getTime()) {
      throw invalidCa(
        "CA_EXPIRED",
        `the CA certificate is not valid now (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
      );
    }
    return new InternalCa(cert, key.cryptoKey);
  }

  /**
   * The CA kept under `dir` as `ca.pem` and `ca-key.pem` (both 0600, `dir`
   * created 0700): created on first use, loaded afterwards. This is how
   * `./wrenn up` gets a stable CA without any setup.
   *
   * @throws PlatformError `failed_precondition` / `CA_FILES_INCOMPLETE` when only
   * one of the two files exists (never silently replaced: agents trust the old CA),
   * or any error of {@link InternalCa.fromPem}.
   */
  static async ensure(dir: string, options: IssueOptions = {}): Promise<InternalCa> {
    const certPath = join(dir, CA_CERT_FILE);
    const keyPath = join(dir, CA_KEY_FILE);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
    if (certPem !== undefined && keyPem !== undefined) return InternalCa.fromPem(certPem, keyPem, options);
    if (certPem !== undefined || keyPem !== undefined) {
      throw invalidCa(
        "CA_FILES_INCOMPLETE",
        `only one of ${CA_CERT_FILE} and ${CA_KEY_FILE} exists in the CA directory; restore the other or remove both to create a new CA`,
      );
    }
    const ca = await InternalCa.create(options);
    // Key first: a crash in between leaves "key without cert", which is refused above rather than half-used.
    await writeNewFile(keyPath, await ca.exportKeyPem());
    await writeNewFile(certPath, ca.certPem);
    return ca;
  }

  /** The CA key as PKCS#8 PEM, for persisting a newly created CA. Handle as a secret. */
  exportKeyPem(): Promise<string> {
    return privateKeyToPem(this.#key);
  }

  /**
   * Issues a host agent's server certificate: CN = the host id, one SAN for the
   * address it advertises (IP SAN for an IP, else DNS SAN), serverAuth, 7 days.
   *
   * @throws TypeError when `hostId` is not a `host-` public id;
   * PlatformError `invalid_argument` / `HOST_ADDRESS_INVALID` for an unusable address.
   */
  issueHostCert(
    host: { readonly hostId: string; readonly address: string },
    options: IssueOptions = {},
  ): Promise<IssuedCertificate> {
    if (!parsePublicId("host", host.hostId).ok) throw new TypeError("issueHostCert: hostId must be a host- public id");
    const san = subjectAltNameForAddress(host.address);
    return this.#issue(
      host.hostId,
      x509.ExtendedKeyUsage.serverAuth,
      HOST_CERT_LIFETIME_MS,
      options,
      new x509.SubjectAlternativeNameExtension([san]),
    );
  }

  /** Issues the control plane's client certificate: CN `wrenn-cp`, clientAuth, 24 hours. */
  issueClientCert(options: IssueOptions = {}): Promise<IssuedCertificate> {
    return this.#issue(CONTROL_PLANE_CLIENT_CN, x509.ExtendedKeyUsage.clientAuth, CLIENT_CERT_LIFETIME_MS, options);
  }

  /** Points at the CA's own key identifier when it has one (an imported CA may not use SHA-1 of its key). */
  async #authorityKeyId(): Promise<x509.AuthorityKeyIdentifierExtension> {
    const ski = this.#cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId, false);
    return x509.AuthorityKeyIdentifierExtension.create(this.#cert, false, crypto);
  }

  async #issue(
    commonName: string,
    purpose: x509.ExtendedKeyUsage,
    lifetimeMs: number,
    options: IssueOptions,
    san?: x509.SubjectAlternativeNameExtension,
  ): Promise<IssuedCertificate> {
    const now = options.now ?? Date.now();
    const notBefore = new Date(now - BACKDATE_MS);
    const notAfter = new Date(Math.min(now + lifetimeMs, this.#cert.notAfter.getTime()));
    const keys = await generateP256();
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(),
        subject: [{ CN: [commonName] }],
        issuer: this.#cert.subjectName,
        notBefore,
        notAfter,
        signingAlgorithm: EC_P256,
        publicKey: keys.publicKey,
        signingKey: this.#key,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([purpose], false),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
          await this.#authorityKeyId(),
          ...(san ? [san] : []),
        ],
      },
      crypto,
    );
    return {
      certPem: cert.toString("pem"),
      keyPem: await privateKeyToPem(keys.privateKey),
      fingerprint: fingerprintOfDer(cert.rawData),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  }
}
