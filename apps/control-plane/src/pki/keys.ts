/**
 * Key and PEM plumbing between Node's `KeyObject` world (which reads every PEM
 * flavour) and WebCrypto (which `@peculiar/x509` signs with).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, webcrypto } from "node:crypto";
import { PlatformError } from "@wrenn/kit";

/** WebCrypto, passed explicitly to `@peculiar/x509` (the library's global provider is left alone). */
export const crypto = webcrypto;

/** A WebCrypto key (the DOM type is not in this project's `lib`). */
export type CryptoKey = webcrypto.CryptoKey;
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** ECDSA P-256 with SHA-256: the only key type this CA issues and accepts. */
export const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A new extractable P-256 key pair. */
export function generateP256(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of an extractable private key. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
  return toPem("PRIVATE KEY", der);
}

/** Wraps DER bytes as PEM with 64-column lines. */
export function toPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Lowercase hex SHA-256 of a certificate's DER: the fingerprint stored for hosts. */
export function fingerprintOfDer(der: ArrayBuffer | Uint8Array): string {
  return createHash("sha256").update(new Uint8Array(der)).digest("hex");
}

/** A P-256 private key read from PEM, in both worlds. */
export interface LoadedPrivateKey {
  readonly keyObject: KeyObject;
  readonly cryptoKey: CryptoKey;
  /** DER SubjectPublicKeyInfo of the matching public key, to compare with a certificate's. */
  readonly publicKeySpki: Buffer;
}

function caKeyError(message: string, cause?: unknown): PlatformError {
  return new PlatformError("failed_precondition", "CA_KEY_INVALID", message, { cause });
}

/**
 * Reads an unencrypted P-256 private key from PEM: PKCS#8 (`PRIVATE KEY`) or
 * SEC1 (`EC PRIVATE KEY`, what `openssl ecparam -genkey` writes).
 *
 * @throws PlatformError `failed_precondition` / `CA_KEY_INVALID` naming what is wrong (never the key).
 */
export async function loadP256PrivateKey(pem: string): Promise<LoadedPrivateKey> {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw caKeyError("the CA key is encrypted; provide it unencrypted (PKCS#8 or SEC1 PEM)");
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: "pem" });
  } catch (err) {
    throw caKeyError("the CA key is not a PEM private key (PKCS#8 'PRIVATE KEY' or SEC1 'EC PRIVATE KEY')", err);
  }
  if (keyObject.asymmetricKeyType !== "ec" || keyObject.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw caKeyError("the CA key must be an ECDSA P-256 key");
  }
  const pkcs8 = keyObject.export({ type: "pkcs8", format: "der" });
  const cryptoKey = await crypto.subtle.importKey("pkcs8", pkcs8, EC_P256, true, ["sign"]);
  const publicKeySpki = createPublicKey(keyObject).export({ type: "spki", format: "der" });
  return { keyObject, cryptoKey, publicKeySpki };
}
