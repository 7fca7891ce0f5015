import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ForwardPlanInput, planForwards, portsListeningOn } from "./forward-plan.js";
import { type TcpSocketEntry, TcpState } from "./proc-net-tcp.js";
import { socatArgv } from "./socat-process.js";

let nextInode = 100;
function sock(localAddress: string, localPort: number, extra: Partial<TcpSocketEntry> = {}): TcpSocketEntry {
  return {
    family: localAddress.includes(":") ? 6 : 4,
    localAddress,
    localPort,
    remoteAddress: localAddress.includes(":") ? "::" : "0.0.0.0",
    remotePort: 0,
    state: TcpState.Listen,
    uid: 0,
    inode: nextInode++,
    ...extra,
  };
}

function plan(sockets: TcpSocketEntry[], over: Partial<ForwardPlanInput> = {}) {
  const p = planForwards({ sockets, bindAddress: "169.254.0.21", ownInodes: new Set(), ourPorts: new Set(), ...over });
  return [...p.values()].sort((a, b) => a.port - b.port).map((t) => [t.port, t.family]);
}

describe("planForwards", () => {
  test("forwards LISTEN sockets on 127.0.0.1, ::1 and ::ffff:127.0.0.1 only", () => {
    const sockets = [
      sock("127.0.0.1", 3000),
      sock("::1", 3001),
      sock("::ffff:127.0.0.1", 3002),
      sock("0.0.0.0", 3003), // reachable already
      sock("::", 3004),
      sock("127.0.0.53", 53), // a resolver stub is not "localhost"
      sock("10.0.0.5", 3005),
      sock("127.0.0.1", 3006, { state: TcpState.Established, remotePort: 40000 }),
      sock("127.0.0.1", 3007, { state: TcpState.TimeWait, inode: 0 }),
    ];
    assert.deepEqual(plan(sockets), [
      [3000, 4],
      [3001, 6],
      [3002, 4],
    ]);
  });

  test("one target per port: IPv4 wins over IPv6, then the lowest inode", () => {
    const sockets = [
      sock("::1", 4000, { inode: 5 }),
      sock("127.0.0.1", 4000, { inode: 9 }),
      sock("127.0.0.1", 4000, { inode: 7 }),
    ];
    const p = planForwards({ sockets, bindAddress: "169.254.0.21", ownInodes: new Set(), ourPorts: new Set() });
    assert.deepEqual(p.get(4000), { port: 4000, family: 4, inode: 7 });
  });

  test("skips envd's own sockets", () => {
    const own = sock("127.0.0.1", 49983);
    assert.deepEqual(plan([own, sock("127.0.0.1", 5000)], { ownInodes: new Set([own.inode]) }), [[5000, 4]]);
  });

  test("skips ports taken on the bind address or a wildcard by someone else", () => {
    const sockets = [
      sock("127.0.0.1", 6000),
      sock("169.254.0.21", 6000), // another service already on the external address
      sock("127.0.0.1", 6001),
      sock("::ffff:169.254.0.21", 6001),
      sock("127.0.0.1", 6002),
      sock("0.0.0.0", 6002, { inode: 1 }), // SO_REUSEPORT oddities: still a conflict
      sock("127.0.0.1", 6003),
    ];
    assert.deepEqual(plan(sockets), [[6003, 4]]);
  });

  test("our own socat on the bind address is not a conflict", () => {
    const sockets = [sock("127.0.0.1", 7000), sock("169.254.0.21", 7000)];
    assert.deepEqual(plan(sockets, { ourPorts: new Set([7000]) }), [[7000, 4]]);
  });

  test("a loopback bind address never forwards its own listeners", () => {
    // 127.0.0.1 as bind address: every loopback listener is "on the bind address".
    assert.deepEqual(plan([sock("127.0.0.1", 8000)], { bindAddress: "127.0.0.1" }), []);
    // 127.0.0.2 (used by tests): socat's listener on 127.0.0.2 is not a candidate.
    assert.deepEqual(plan([sock("127.0.0.1", 8001), sock("127.0.0.2", 8002)], { bindAddress: "127.0.0.2" }), [
      [8001, 4],
    ]);
  });
});

test("planForwards applies the include filter", () => {
  assert.deepEqual(plan([sock("127.0.0.1", 1), sock("127.0.0.1", 2)], { include: (p) => p === 2 }), [[2, 4]]);
});

test("portsListeningOn matches IPv4-mapped addresses and LISTEN only", () => {
  const sockets = [
    sock("169.254.0.21", 1),
    sock("::ffff:169.254.0.21", 2),
    sock("169.254.0.21", 3, { state: TcpState.Established }),
    sock("127.0.0.1", 4),
  ];
  assert.deepEqual([...portsListeningOn(sockets, "169.254.0.21")], [1, 2]);
});

test("socatArgv pins the exact socat addresses", () => {
  assert.deepEqual(socatArgv(8080, "169.254.0.21", 4), [
    "TCP4-LISTEN:8080,bind=169.254.0.21,reuseaddr,fork",
    "TCP4:127.0.0.1:8080",
  ]);
  assert.deepEqual(socatArgv(8080, "169.254.0.21", 6), [
    "TCP4-LISTEN:8080,bind=169.254.0.21,reuseaddr,fork",
    "TCP6:[::1]:8080",
  ]);
  assert.deepEqual(socatArgv(22, "fd00::2", 4), ["TCP6-LISTEN:22,bind=[fd00::2],reuseaddr,fork", "TCP4:127.0.0.1:22"]);
});
