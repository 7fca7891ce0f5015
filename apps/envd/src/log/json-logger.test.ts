import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { createJsonLogger, type JsonLoggerOptions } from "./json-logger.js";

function capture(options: Omit<JsonLoggerOptions, "write" | "now"> = {}) {
  const lines: string[] = [];
  const log = createJsonLogger({ ...options, write: (line) => lines.push(line), now: () => 1700000000000 });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe("createJsonLogger", () => {
  it("writes one pino-shaped JSON line per call, with base and child bindings", () => {
    const { log, lines, parsed } = capture({ base: { svc: "envd" } });
    const processLog = log.child({ component: "process" });
    processLog.info({ status: "running" }, "started");
    processLog.child({ pid: 42 }).info({ status: "exit status 0" }, "process ended");
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n")));
    const [first, second] = parsed();
    assert.deepEqual(first, {
      level: 30,
      time: 1700000000000,
      pid: process.pid,
      svc: "envd",
      component: "process",
      status: "running",
      msg: "started",
    });
    // A child process's pid binding replaces envd's pid instead of repeating the key.
    assert.equal(lines[1]?.match(/"pid"/g)?.length, 1);
    assert.deepEqual(second, { ...first, pid: 42, status: "exit status 0", msg: "process ended" });
  });

  it("drops lines below the level and writes nothing when silent", () => {
    const warn = capture({ level: "warn" });
    warn.log.debug({}, "d");
    warn.log.info({}, "i");
    warn.log.warn({}, "w");
    warn.log.error({}, "e");
    assert.deepEqual(
      warn.parsed().map((l) => [l["level"], l["msg"]]),
      [
        [40, "w"],
        [50, "e"],
      ],
    );
    const silent = capture({ level: "silent" });
    silent.log.error({}, "e");
    assert.equal(silent.lines.length, 0);
  });

  it("redacts access tokens at any depth", () => {
    const { log, lines } = capture();
    log.info({ accessToken: "s3cret", body: { envdAccessToken: "t0ken", other: 1 } }, "init");
    assert.ok(!lines[0]?.includes("s3cret") && !lines[0]?.includes("t0ken"), lines[0]);
    assert.match(lines[0] ?? "", /"accessToken":"\[Redacted\]"/);
    assert.match(lines[0] ?? "", /"other":1/);
  });

  it("serializes errors with type, message, code, stack and cause", () => {
    const { log, parsed } = capture();
    const cause = new Error("inner");
    const err = Object.assign(new TypeError("outer", { cause }), { code: "EACCES" });
    log.error({ err }, "failed");
    const out = parsed()[0]?.["err"] as Record<string, unknown>;
    assert.equal(out["type"], "TypeError");
    assert.equal(out["message"], "outer");
    assert.equal(out["code"], "EACCES");
    assert.match(String(out["stack"]), /TypeError: outer/);
    assert.equal((out["cause"] as Record<string, unknown>)["message"], "inner");
  });

  it("never throws on values JSON cannot represent", () => {
    const { log, parsed } = capture();
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic["self"] = cyclic;
    log.info({ cyclic, big: 10n }, "odd values");
    const line = parsed()[0];
    assert.deepEqual(line?.["cyclic"], { name: "loop", self: "[Circular]" });
    assert.equal(line?.["big"], "10");
    log.info(
      {
        bad: {
          toJSON: () => {
            throw new Error("boom");
          },
        },
      },
      "throws",
    );
    assert.equal(parsed()[1]?.["logError"], "fields could not be serialized");
    assert.equal(parsed()[1]?.["msg"], "throws");
  });

  it("omits msg when none is given and keeps messages JSON-escaped", () => {
    const { log, parsed } = capture();
    log.info({ a: 1 });
    log.warn({}, 'quote " and\nnewline');
    assert.equal("msg" in (parsed()[0] ?? {}), false);
    assert.equal(parsed()[1]?.["msg"], 'quote " and\nnewline');
  });

  it("keeps the process alive when its stdout reader has gone away (EPIPE)", async () => {
    // A child logging to a pipe whose reading end is closed: without the guard
    // the EPIPE 'error' event would be unhandled and kill it.
    const script = `
      const { createJsonLogger } = await import(${JSON.stringify(new URL("./json-logger.ts", import.meta.url).href)});
      const log = createJsonLogger();
      for (let i = 0; i < 200; i++) { log.info({ i }, "line"); await new Promise((r) => setTimeout(r, 1)); }
      process.stderr.write("survived\\n");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /survived/);
  });
});
