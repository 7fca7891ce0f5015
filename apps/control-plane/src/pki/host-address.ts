/**
 * Turns a host agent's advertised address (`--address`) into the subject
 * alternative name its server certificate must carry, so the control plane's
 * TLS client can verify it by the same address it dials.
 */
import { isIP } from "node:net";
import { PlatformError } from "@wrenn/kit";

/** One SAN entry: an IP address or a DNS name. */
export type SubjectAltName =
  | { readonly type: "ip"; readonly value: string }
  | { readonly type: "dns"; readonly value: string };

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function invalid(): PlatformError {
  return new PlatformError(
    "invalid_argument",
    "HOST_ADDRESS_INVALID",
    "host address must be an IP address or DNS name, optionally with :port (IPv6 as [addr]:port)",
  );
}

/**
 * The SAN for an address in any of the forms `10.0.0.5:50051`, `10.0.0.5`,
 * `[fd00::5]:50051`, `fd00::5`, `agent-1.internal:50051` or `agent-1.internal`.
 * DNS names are lowercased.
 *
 * @throws PlatformError `invalid_argument` / `HOST_ADDRESS_INVALID` for anything else.
 */
export function subjectAltNameForAddress(address: string): SubjectAltName {
  let host = address;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(address);
  if (bracketed?.[1]) {
    host = bracketed[1];
    port = bracketed[2];
    if (isIP(host) !== 6) throw invalid();
  } else if (isIP(address) === 0) {
    // host:port, where the port is optional and the host has no colon of its own.
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(address);
    if (!m?.[1]) throw invalid();
    host = m[1];
    port = m[2];
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalid();
  if (isIP(host) !== 0) return { type: "ip", value: host };
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name.length === 0 || name.length > 253 || !name.split(".").every((label) => DNS_LABEL.test(label))) {
    throw invalid();
  }
  return { type: "dns", value: name };
}
