/**
 * Pure parsing of the kernel's `/proc/net/tcp` and `/proc/net/tcp6` tables.
 *
 * The kernel prints each address as the raw in-memory words of
 * `struct in_addr` / `struct in6_addr` in hex, i.e. every 32-bit word in the
 * CPU's byte order (little-endian on every platform envd runs on), and ports
 * in plain big-endian hex. So `0100007F:1F90` is 127.0.0.1:8080 and the IPv6
 * loopback ::1 reads `00000000000000000000000001000000`.
 */

/** Kernel TCP states as printed in the `st` column (include/net/tcp_states.h). */
export const TcpState = {
  Established: 0x01,
  SynSent: 0x02,
  SynRecv: 0x03,
  FinWait1: 0x04,
  FinWait2: 0x05,
  TimeWait: 0x06,
  Close: 0x07,
  CloseWait: 0x08,
  LastAck: 0x09,
  Listen: 0x0a,
  Closing: 0x0b,
  NewSynRecv: 0x0c,
} as const;

/** One row of /proc/net/tcp{,6}. Addresses are canonical text (RFC 5952 for IPv6). */
export interface TcpSocketEntry {
  /** 4 for rows of /proc/net/tcp, 6 for /proc/net/tcp6 (decided by the address width). */
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** A `TcpState` value. */
  readonly state: number;
  readonly uid: number;
  /** Socket inode; matches `socket:[inode]` links under /proc/<pid>/fd. 0 for sockets in TIME_WAIT. */
  readonly inode: number;
}

/**
 * Parses the whole text of /proc/net/tcp or /proc/net/tcp6. The header line
 * and any malformed line are skipped rather than thrown on: one odd row must
 * not stop the forwarding of every other port.
 */
export function parseProcNetTcp(text: string): TcpSocketEntry[] {
  const entries: TcpSocketEntry[] = [];
  for (const line of text.split("\n")) {
    const entry = parseProcNetTcpLine(line);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** Parses one table row; undefined for the header, blank or malformed lines. */
export function parseProcNetTcpLine(line: string): TcpSocketEntry | undefined {
  const f = line.trim().split(/\s+/);
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  if (f.length < 10 || !/^\d+:$/.test(f[0] ?? "")) return undefined;
  const local = parseEndpoint(f[1] ?? "");
  const remote = parseEndpoint(f[2] ?? "");
  const state = parseHex(f[3] ?? "", 2);
  const uid = parseDecimal(f[7] ?? "");
  const inode = parseDecimal(f[9] ?? "");
  if (!local || !remote || state === undefined || uid === undefined || inode === undefined) return undefined;
  if (local.family !== remote.family) return undefined;
  return {
    family: local.family,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
    state,
    uid,
    inode,
  };
}

/**
 * Decodes a kernel hex address (8 digits for IPv4, 32 for IPv6) to text;
 * undefined when it is neither.
 */
export function decodeProcAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  // Each 32-bit word is stored little-endian: reverse the 4 bytes of every word.
  for (let word = 0; word < bytes.length / 4; word++) {
    for (let i = 0; i < 4; i++) {
      const at = (word * 4 + 3 - i) * 2;
      bytes[word * 4 + i] = Number.parseInt(hex.slice(at, at + 2), 16);
    }
  }
  return bytes.length === 4 ? bytes.join(".") : formatIpv6(bytes);
}

/** Formats 16 bytes as RFC 5952 text; IPv4-mapped addresses as `::ffff:a.b.c.d`. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.slice(12)).join(".")}`;
  }
  // Longest run of at least two zero groups becomes "::" (the first on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

function parseEndpoint(text: string): { family: 4 | 6; address: string; port: number } | undefined {
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const address = decodeProcAddress(text.slice(0, colon));
  const port = parseHex(text.slice(colon + 1), 4);
  if (address === undefined || port === undefined) return undefined;
  return { family: colon === 8 ? 4 : 6, address, port };
}

function parseHex(text: string, digits: number): number | undefined {
  return text.length === digits && /^[0-9A-Fa-f]+$/.test(text) ? Number.parseInt(text, 16) : undefined;
}

function parseDecimal(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
