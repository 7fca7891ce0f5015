import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { findExecutable } from "./find-executable.js";

// These run in a fresh network namespace (`unshare --net`, root only): there
// the socket counts move only when the test's own sockets do, and envd may
// forward every localhost listener it sees without touching other programs.
const skip =
  process.getuid?.() !== 0
    ? "needs root (unshare --net)"
    : (await findExecutable("socat")) === undefined
      ? "socat is not installed"
      : (await findExecutable("unshare")) === undefined
        ? "unshare is not installed"
        : false;

const here = (file: string) => JSON.stringify(new URL(file, import.meta.url).href);

/** Prints its port once listening on argv[1]; answers "hello <pid>"; ends with stdin. */
const SERVICE_JS = `
const s = require("node:http").createServer((q, r) => r.end("hello " + process.pid));
s.listen(0, process.argv[1], () => process.stdout.write(s.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

/** Runs an ES module script (tsx) alone in a new network namespace; resolves with its stdout as JSON. */
async function runInNetns(script: string): Promise<Record<string, unknown>> {
  const child = spawn(
    "unshare",
    [
      "--net",
      "--",
      "sh",
      "-c",
      'ip link set lo up && exec "$@"',
      "sh",
      process.execPath,
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      script,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, `the script failed; stdout: ${out}`);
  return JSON.parse(out) as Record<string, unknown>;
}

/** Script prelude: a service child and waiting helpers. */
const PRELUDE = `
import { spawn } from "node:child_process";
import { once } from "node:events";
const startService = async () => {
  const child = spawn(process.execPath, ["-e", ${JSON.stringify(SERVICE_JS)}, "127.0.0.1"], { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = await once(child.stdout, "data");
  return { child, port: Number(String(chunk).trim()) };
};
const until = (f, event, cond) => new Promise((resolve) => {
  const on = (...args) => { if (cond(...args)) { f.off(event, on); resolve(args); } };
  f.on(event, on);
});
const get = async (port) => (await fetch("http://127.0.0.2:" + port + "/")).text();
setInterval(() => {}, 1000); // the forwarder's timer is unref'd
`;

describe("port forwarding after a long idle period (own network namespace)", { skip }, () => {
  test("the socket-count probe finds a new listener long before the periodic scan is due", {
    timeout: 20_000,
  }, async () => {
    const result = await runInNetns(`${PRELUDE}
      import { PortForwarder } from ${here("./port-forwarder.ts")};
      import { silentLogger } from "@wrenn/kit";
      const f = new PortForwarder({
        bindAddress: "127.0.0.2", log: silentLogger,
        pacing: { fastMs: 20, fastWindowMs: 100, probeMs: 20, maxScanGapMs: 600000 },
      });
      f.start();
      // Right after a periodic scan whose gap is over a second: the next one is far away.
      await until(f, "scanned", (reason) => reason === "periodic" && f.pacing.scanGapMs >= 1280);
      const svc = await startService();
      let spawnedBy;
      f.on("scanned", (reason) => { if (!spawnedBy && f.forwards.some((x) => x.port === svc.port)) spawnedBy = reason; });
      await until(f, "forwarded", (info) => info.port === svc.port);
      const body = await get(svc.port);
      process.stdout.write(JSON.stringify({ spawnedBy, body, pid: svc.child.pid }));
      f.stop(); await f.stopped(); svc.child.kill(); process.exit(0);
    `);
    assert.equal(result["spawnedBy"], "probe");
    assert.equal(result["body"], `hello ${result["pid"]}`);
  });

  test("envd: a command started after the back-off makes ticks fast and its server is forwarded", {
    timeout: 20_000,
  }, async () => {
    const result = await runInNetns(`${PRELUDE}
      import { useEnvd } from ${here("../testing/test-envd.ts")};
      import { processClient } from ${here("../process/process-test-client.ts")};
      const t = await useEnvd({
        forwardAddress: "127.0.0.2",
        portScanPacing: { fastMs: 20, fastWindowMs: 200, probeMs: 50, maxScanGapMs: 600000 },
      });
      await t.envd.ports.settled();
      const f = t.envd.ports.current;
      await until(f, "ticked", () => !f.pacing.fast && f.pacing.tickDelayMs === 50);
      const client = processClient(t.url, { binary: true });
      const kicked = once(f, "kicked");
      const stream = client.start({ process: { cmd: process.execPath, args: ["-e", ${JSON.stringify(SERVICE_JS)}, "127.0.0.1"] }, stdin: true });
      let port = 0;
      for await (const res of stream) {
        const ev = res.event?.event;
        if (ev?.case === "data" && ev.value.output.case === "stdout") { port = Number(new TextDecoder().decode(ev.value.output.value).trim()); break; }
      }
      await kicked;
      await until(f, "forwarded", (info) => info.port === port);
      const body = await get(port);
      // A PTY start kicks too.
      await until(f, "ticked", () => !f.pacing.fast);
      const ptyKicked = once(f, "kicked");
      for await (const _ of client.start({ process: { cmd: "true" }, pty: { size: { cols: 80, rows: 24 } } })) {}
      await ptyKicked;
      process.stdout.write(JSON.stringify({ body, port }));
      await t[Symbol.asyncDispose]();
      process.exit(0);
    `);
    assert.match(String(result["body"]), /^hello \d+$/);
    assert.ok(Number(result["port"]) > 0);
  });
});
