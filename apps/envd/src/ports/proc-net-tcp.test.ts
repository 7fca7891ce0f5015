import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeProcAddress, formatIpv6, parseProcNetTcp, parseProcNetTcpLine, TcpState } from "./proc-net-tcp.js";

// Captured from a Linux 6.x kernel (trailing spaces as the kernel pads them).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 126 1 0000000096e82270 100 0 0 10 0                       
   1: 0100007F:ABF7 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11686 1 000000006f6f3b71 100 0 0 10 0                     
   2: 0100007F:8D41 0100007F:8766 06 00000000:00000000 03:00001702 00000000     0        0 0 3 0000000012f01c03                                      
   3: 0200007F:1F90 0A01A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:B62B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11683 1 00000000c17085b0 100 0 0 10 0
   1: 00000000000000000000000000000000:B5BF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11685 1 00000000d930ca05 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:803F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11684 1 00000000d60bdf36 100 0 0 10 0
   3: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
`;

describe("parseProcNetTcp", () => {
  test("parses /proc/net/tcp rows, skipping the header", () => {
    const rows = parseProcNetTcp(TCP);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0], {
      family: 4,
      localAddress: "0.0.0.0",
      localPort: 2024,
      remoteAddress: "0.0.0.0",
      remotePort: 0,
      state: TcpState.Listen,
      uid: 0,
      inode: 126,
    });
    assert.deepEqual(rows[1], {
      family: 4,
      localAddress: "127.0.0.1",
      localPort: 0xabf7,
      remoteAddress: "0.0.0.0",
      remotePort: 0,
      state: TcpState.Listen,
      uid: 1000,
      inode: 11686,
    });
    assert.equal(rows[2]?.state, TcpState.TimeWait);
    assert.equal(rows[2]?.remotePort, 0x8766);
    assert.equal(rows[3]?.localAddress, "127.0.0.2");
    assert.equal(rows[3]?.localPort, 8080);
    assert.equal(rows[3]?.remoteAddress, "192.168.1.10");
    assert.equal(rows[3]?.state, TcpState.Established);
  });

  test("parses /proc/net/tcp6 rows with per-word byte order", () => {
    const rows = parseProcNetTcp(TCP6);
    assert.deepEqual(
      rows.map((r) => [r.family, r.localAddress, r.localPort, r.inode]),
      [
        [6, "::1", 0xb62b, 11683],
        [6, "::", 0xb5bf, 11685],
        [6, "::ffff:127.0.0.1", 0x803f, 11684],
        [6, "2001:db8::1", 80, 777],
      ],
    );
    assert.ok(rows.every((r) => r.state === TcpState.Listen));
  });

  test("skips blank and malformed lines instead of throwing", () => {
    const bad = [
      "",
      "garbage",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000", // too few fields
      "   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1", // bad hex
      "   0: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1", // short port
      "   0: 0100007F:1F90 0000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 1", // 31 digits
      "   0: 0100007F:1F90 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 1", // mixed families
      "   x: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
    ];
    for (const line of bad) assert.equal(parseProcNetTcpLine(line), undefined, line);
    assert.deepEqual(parseProcNetTcp(bad.join("\n")), []);
  });
});

describe("decodeProcAddress", () => {
  test("IPv4 words are little-endian", () => {
    assert.equal(decodeProcAddress("0100007F"), "127.0.0.1");
    assert.equal(decodeProcAddress("1500FEA9"), "169.254.0.21");
    assert.equal(decodeProcAddress("00000000"), "0.0.0.0");
    assert.equal(decodeProcAddress("ffffffff"), "255.255.255.255");
  });

  test("IPv6 reverses bytes within each 32-bit word", () => {
    assert.equal(decodeProcAddress("00000000000000000000000001000000"), "::1");
    assert.equal(decodeProcAddress("00000000000000000000000000000000"), "::");
    assert.equal(decodeProcAddress("0000000000000000FFFF00000100007F"), "::ffff:127.0.0.1");
    assert.equal(decodeProcAddress("000080FE00000000FF0302A89A9DADFE"), "fe80::a802:3ff:fead:9d9a");
  });

  test("rejects other widths and non-hex", () => {
    assert.equal(decodeProcAddress(""), undefined);
    assert.equal(decodeProcAddress("0100007"), undefined);
    assert.equal(decodeProcAddress("0100007F00"), undefined);
    assert.equal(decodeProcAddress("zz00007F"), undefined);
  });
});

describe("formatIpv6", () => {
  const of = (...groups: number[]) => {
    const b = new Uint8Array(16);
    groups.forEach((g, i) => {
      b[i * 2] = g >> 8;
      b[i * 2 + 1] = g & 0xff;
    });
    return formatIpv6(b);
  };

  test("compresses the longest zero run, the first on a tie, never a single group", () => {
    assert.equal(of(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1");
    assert.equal(of(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1");
    assert.equal(of(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1");
    assert.equal(of(1, 0, 0, 0, 0, 0, 0, 0), "1::");
    assert.equal(of(0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd), "fe80::abcd");
  });
});
