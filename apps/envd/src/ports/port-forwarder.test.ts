import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import { describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { findExecutable } from "./find-executable.js";
import { type ForwardInfo, PortForwarder, type PortForwarderEvents } from "./port-forwarder.js";

// Everything stays on loopback: services on 127.0.0.1 / ::1, forwards on 127.0.0.2.
const BIND = "127.0.0.2";
const noSocat = (await findExecutable("socat")) === undefined && "socat is not installed (apt-get install socat)";

/** An HTTP service in a child process (a real "user" service, not a socket of this process). */
interface Service extends AsyncDisposable {
  readonly port: number;
  readonly child: ChildProcess;
  close(): Promise<void>;
}

const SERVICE_JS = `
const s = require("node:http").createServer((q, r) => r.end("hello " + process.pid));
s.listen(0, process.argv[1], () => process.stdout.write(s.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

async function startService(host: string): Promise<Service> {
  const child = spawn(process.execPath, ["-e", SERVICE_JS, host], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const [chunk] = (await Promise.race([once(child.stdout, "data"), exited.then(() => ["exited"])])) as [
    Buffer | string,
  ];
  const port = Number(String(chunk).trim());
  assert.ok(port > 0, `service failed to start: ${String(chunk)}`);
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      await exited;
    }
  };
  return { port, child, close, [Symbol.asyncDispose]: close };
}

/** GET / on BIND:port with a fresh connection that closes afterwards. */
function fetchVia(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: BIND, port, path: "/", agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.setTimeout(3000, () => req.destroy(new Error("timeout")));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/** True once `pid` has exited (a zombie waiting for a reaper counts as exited). */
function isGone(pid: number): boolean {
  if (!isAlive(pid)) return true;
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true;
  }
}

type Released = PortForwarderEvents["released"][0];

/** The next "forwarded" event for `port`. */
function nextForwarded(f: PortForwarder, port: number): Promise<ForwardInfo> {
  return new Promise((resolve) => {
    const on = (info: ForwardInfo) => {
      if (info.port !== port) return;
      f.off("forwarded", on);
      resolve(info);
    };
    f.on("forwarded", on);
  });
}

/** The next "released" event for `port`. */
function nextReleased(f: PortForwarder, port: number): Promise<Released> {
  return new Promise((resolve) => {
    const on = (info: Released) => {
      if (info.port !== port) return;
      f.off("released", on);
      resolve(info);
    };
    f.on("released", on);
  });
}

/** Short timings so tests wait little; the back-off still applies (probeMs, maxScanGapMs). */
const TEST_PACING = { fastMs: 20, fastWindowMs: 200, probeMs: 50, maxScanGapMs: 200 };

/**
 * A forwarder for the given service ports only: other programs on this
 * machine (parallel test runs) have loopback listeners of their own.
 */
function useForwarder(ports: readonly number[], extra: { socatCommand?: string } = {}) {
  const log = new MemoryLogger();
  const includePort = (port: number) => ports.includes(port);
  const f = new PortForwarder({
    bindAddress: BIND,
    log,
    pacing: TEST_PACING,
    killGraceMs: 1000,
    includePort,
    ...extra,
  });
  return Object.assign(f, { log });
}

describe("PortForwarder (real socat)", { skip: noSocat }, () => {
  test("forwards a localhost-only service and drops the forward when it closes", { timeout: 5000 }, async (t) => {
    await using svc = await startService("127.0.0.1");
    await using f = useForwarder([svc.port]);
    const forwarded = nextForwarded(f, svc.port);
    const t0 = performance.now();
    f.start();
    const info = await forwarded;
    const setupMs = performance.now() - t0;
    assert.equal(info.family, 4);
    assert.equal(await fetchVia(svc.port), `hello ${svc.child.pid}`);
    assert.ok(info.pid && isAlive(info.pid));
    assert.ok(f.log.entries.some((e) => e.msg === "forwarding localhost port" && e.fields["port"] === svc.port));

    const released = nextReleased(f, svc.port);
    const t1 = performance.now();
    await svc.close();
    const gone = await released;
    const teardownMs = performance.now() - t1;
    assert.equal(gone.expected, true);
    assert.equal(isAlive(info.pid), false, "socat exited");
    assert.deepEqual(f.forwards, []);
    t.diagnostic(
      `forward ready ${setupMs.toFixed(0)} ms after start(), removed ${teardownMs.toFixed(0)} ms after close`,
    );
  });

  test("an IPv6 (::1) service is reached through a TCP6 target", { timeout: 5000 }, async () => {
    await using svc = await startService("::1");
    await using f = useForwarder([svc.port]);
    const forwarded = nextForwarded(f, svc.port);
    f.start();
    assert.equal((await forwarded).family, 6);
    assert.equal(await fetchVia(svc.port), `hello ${svc.child.pid}`);
  });

  test("stop() kills every socat and its connections; start() after stop() forwards again", {
    timeout: 5000,
  }, async () => {
    await using a = await startService("127.0.0.1");
    await using b = await startService("::1");
    await using f = useForwarder([a.port, b.port]);
    const fa = nextForwarded(f, a.port);
    const fb = nextForwarded(f, b.port);
    f.start();
    f.start(); // idempotent
    const pids = [(await fa).pid, (await fb).pid];
    assert.equal(await fetchVia(b.port), `hello ${b.child.pid}`);
    // An open connection is served by a child socat forked into the same process group.
    const held = connect(a.port, BIND);
    await once(held, "connect");
    // Killing socat resets the connection: ECONNRESET is the expected outcome.
    held.on("error", () => {});
    const heldClosed = new Promise((resolve) => held.once("close", resolve));

    f.stop();
    f.stop(); // idempotent
    await f.stopped();
    for (const pid of pids) assert.equal(pid !== undefined && isAlive(pid), false, `socat ${pid} exited`);
    assert.deepEqual(f.forwards, []);
    await heldClosed;
    await assert.rejects(fetchVia(a.port), { code: "ECONNREFUSED" });

    // As around a snapshot: the same forwarder starts again.
    const again = nextForwarded(f, a.port);
    f.start();
    const info = await again;
    assert.ok(info.pid !== undefined && !pids.includes(info.pid));
    assert.equal(await fetchVia(a.port), `hello ${a.child.pid}`);
  });

  test("never forwards a socket of its own process", { timeout: 5000 }, async (t) => {
    const own = createServer();
    t.after(() => new Promise<void>((resolve) => own.close(() => resolve())));
    await new Promise<void>((resolve) => own.listen(0, "127.0.0.1", resolve));
    const ownPort = (own.address() as AddressInfo).port;
    await using svc = await startService("127.0.0.1");
    await using f = useForwarder([ownPort, svc.port]);
    const forwarded = nextForwarded(f, svc.port);
    f.start();
    await forwarded;
    // The scan that confirmed svc's forward also saw our own listener.
    assert.deepEqual(
      f.forwards.map((x) => x.port),
      [svc.port],
    );
  });

  test("socats are killed when the process exits without stop()", { timeout: 5000 }, async () => {
    await using svc = await startService("127.0.0.1");
    const script = `
      import { PortForwarder } from ${JSON.stringify(new URL("./port-forwarder.ts", import.meta.url).href)};
      import { silentLogger } from "@wrenn/kit";
      const f = new PortForwarder({
        bindAddress: ${JSON.stringify(BIND)}, log: silentLogger, pacing: { fastMs: 20, probeMs: 50 }, includePort: (p) => p === ${svc.port},
      });
      f.on("forwarded", (info) => { process.stdout.write(info.pid + "\\n"); process.exit(0); });
      f.start();
      setInterval(() => {}, 1000); // the scan timer is unref'd: keep this script alive
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    const pid = Number(out.trim());
    assert.ok(pid > 0);
    // SIGKILL was sent synchronously at exit; only its delivery is waited for (bounded).
    for (let i = 0; i < 100 && !isGone(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(isGone(pid), `socat ${pid} still running`);
    await assert.rejects(fetchVia(svc.port), { code: "ECONNREFUSED" });
  });
});

describe("PortForwarder without socat or bind address", () => {
  test("a socat that dies by itself is reported once and not respawned", { timeout: 5000 }, async () => {
    await using svc = await startService("127.0.0.1");
    // A "socat" that exits at once, as a real one does when its port is taken.
    await using f = useForwarder([svc.port], { socatCommand: "false" });
    const released = nextReleased(f, svc.port);
    f.start();
    const gone = await released;
    assert.equal(gone.expected, false);
    for (let i = 0; i < 3; i++) await once(f, "scanned");
    assert.deepEqual(f.forwards, []);
    assert.equal(f.log.entries.filter((e) => e.msg?.startsWith("socat exited by itself")).length, 1);
  });

  test("a missing socat gives one clear warning, even across restarts", { timeout: 5000 }, async (t) => {
    await using f = useForwarder([], { socatCommand: "/nonexistent/socat" });
    // Nothing else keeps this test's event loop alive (the scan timer is unref'd).
    const keepAlive = setInterval(() => {}, 1000);
    t.after(() => clearInterval(keepAlive));
    const unavailable = once(f, "unavailable");
    f.start();
    await unavailable;
    f.stop();
    f.start();
    assert.deepEqual(f.forwards, []);
    const warnings = f.log.entries.filter((e) => e.level === "warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.msg ?? "", /socat not found in PATH/);
  });

  test("without a bind address start() does nothing", { timeout: 5000 }, async () => {
    const f = new PortForwarder({ bindAddress: undefined, log: new MemoryLogger() });
    f.start();
    assert.equal(f.started, false);
    f.stop();
    await f.stopped();
  });
});

/** Resolves at the first "ticked" after which `cond` holds. */
function tickUntil(f: PortForwarder, cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const on = () => {
      if (!cond()) return;
      f.off("ticked", on);
      resolve();
    };
    f.on("ticked", on);
  });
}

describe("PortForwarder back-off (real socat)", { skip: noSocat }, () => {
  test("kick() after a long idle period makes ticks fast again", { timeout: 5000 }, async (t) => {
    await using f = useForwarder([]);
    const keepAlive = setInterval(() => {}, 1000); // the tick timer is unref'd
    t.after(() => clearInterval(keepAlive));
    f.kick(); // stopped: nothing to do
    f.start();
    const backedOff = () =>
      f.pacing.tickDelayMs === TEST_PACING.probeMs && f.pacing.scanGapMs === TEST_PACING.maxScanGapMs;
    await tickUntil(f, backedOff);
    assert.equal(f.pacing.fast, false);
    const kicked = once(f, "kicked");
    f.kick();
    await kicked;
    assert.deepEqual(f.pacing, { tickDelayMs: TEST_PACING.fastMs, scanGapMs: TEST_PACING.probeMs, fast: true });
    const [delay] = (await once(f, "ticked")) as [number];
    assert.equal(delay, TEST_PACING.fastMs);
  });

  test("without the socket-count probe a listener opened after a long idle period is still forwarded", {
    timeout: 10_000,
  }, async (t) => {
    const missing = { v4: "/nonexistent/sockstat", v6: "/nonexistent/sockstat6" };
    const log = new MemoryLogger();
    const ports: number[] = [];
    await using f = new PortForwarder({
      bindAddress: BIND,
      log,
      pacing: TEST_PACING,
      killGraceMs: 1000,
      includePort: (port) => ports.includes(port),
      procFiles: { sockstat: missing, tcp: { v4: "/proc/net/tcp", v6: "/proc/net/tcp6" } },
    });
    const keepAlive = setInterval(() => {}, 1000);
    t.after(() => clearInterval(keepAlive));
    const reasons = new Set<string>();
    f.on("scanned", (reason) => reasons.add(reason));
    f.start();
    await tickUntil(f, () => !f.pacing.fast && f.pacing.scanGapMs === TEST_PACING.maxScanGapMs);
    await using svc = await startService("127.0.0.1");
    ports.push(svc.port);
    const forwarded = nextForwarded(f, svc.port);
    assert.equal((await forwarded).family, 4);
    assert.equal(await fetchVia(svc.port), `hello ${svc.child.pid}`);
    assert.equal(reasons.has("probe"), false, "unreadable counts never trigger a scan");
    assert.ok(reasons.has("periodic"));
  });
});
