import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { PlatformError } from "@wrenn/kit";
import { Signal } from "@wrenn/protocol/envd/process";
import { toConnectError } from "./errors.js";
import { defaultTag, parseSignal, processConfig, selector, userHeaders } from "./process-config.js";

describe("processConfig", () => {
  it("passes cmd, args, envs and cwd through for root or no user", () => {
    const cfg = processConfig({ cmd: "/bin/echo", args: ["a b"], envs: { X: "1" }, cwd: "/tmp", user: "root" });
    assert.deepEqual(cfg, { cmd: "/bin/echo", args: ["a b"], envs: { X: "1" }, cwd: "/tmp" });
    assert.deepEqual(processConfig({ cmd: "ls", args: [] }), { cmd: "ls", args: [], envs: {} });
  });
  it("keeps argv intact for any user; the user travels as envd's Basic auth header", () => {
    const cfg = processConfig({ cmd: "/bin/echo", args: ["$HOME; rm -rf /"], user: "app" });
    assert.deepEqual(cfg, { cmd: "/bin/echo", args: ["$HOME; rm -rf /"], envs: {} });
    assert.deepEqual(userHeaders("app"), { authorization: `Basic ${Buffer.from("app:").toString("base64")}` });
    assert.deepEqual(userHeaders(""), {});
    assert.deepEqual(userHeaders(undefined), {});
  });
  it("rejects an empty command and odd user names", () => {
    assert.throws(() => processConfig({ cmd: "", args: [] }), { code: Code.InvalidArgument });
    for (const user of ["-u", "a b", "root;x", "A".repeat(40)]) {
      assert.throws(() => processConfig({ cmd: "ls", args: [], user }), { code: Code.InvalidArgument });
    }
  });
});

describe("parseSignal, selector, defaultTag, toConnectError", () => {
  it("accepts SIGTERM/SIGKILL, defaults to SIGKILL, rejects the rest", () => {
    assert.equal(parseSignal(""), Signal.SIGKILL);
    assert.equal(parseSignal("SIGKILL"), Signal.SIGKILL);
    assert.equal(parseSignal("SIGTERM"), Signal.SIGTERM);
    for (const s of ["SIGHUP", "sigterm", "9"]) assert.throws(() => parseSignal(s), { code: Code.InvalidArgument });
  });
  it("requires a pid or a non-empty tag", () => {
    assert.deepEqual(selector({ case: "pid", value: 7 }), { selector: { case: "pid", value: 7 } });
    assert.throws(() => selector({ case: "tag", value: "" }), { code: Code.InvalidArgument });
    assert.throws(() => selector({ case: undefined }), { code: Code.InvalidArgument });
  });
  it("makes proc- tags with 8 hex digits", () => {
    assert.match(defaultTag(), /^proc-[0-9a-f]{8}$/);
    assert.notEqual(defaultTag(), defaultTag());
  });
  it("maps platform error codes in one place", () => {
    const code = (c: ConstructorParameters<typeof PlatformError>[0]) =>
      toConnectError(new PlatformError(c, "R", "m")).code;
    assert.equal(code("not_found"), Code.NotFound);
    assert.equal(code("failed_precondition"), Code.FailedPrecondition);
    assert.equal(code("invalid_argument"), Code.InvalidArgument);
    assert.equal(code("already_exists"), Code.AlreadyExists);
    assert.equal(code("internal"), Code.Internal);
    assert.equal(toConnectError(new Error("boom")).code, Code.Internal);
  });
});
