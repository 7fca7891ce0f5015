import assert from "node:assert/strict";
import { test } from "node:test";
import { endStatus, signalName } from "./exit-status.js";

test("a clean exit has no error", () => {
  assert.deepEqual(endStatus({ code: 0, signal: null }), {
    exitCode: 0,
    exited: true,
    status: "exit status 0",
    error: undefined,
  });
});

test("a non-zero exit reports the status as the error, like Go's cmd.Wait", () => {
  assert.deepEqual(endStatus({ code: 3, signal: null }), {
    exitCode: 3,
    exited: true,
    status: "exit status 3",
    error: "exit status 3",
  });
});

test("a signal death has exit code -1 and Go's signal text", () => {
  assert.deepEqual(endStatus({ code: null, signal: "SIGKILL" }), {
    exitCode: -1,
    exited: false,
    status: "signal: killed",
    error: "signal: killed",
  });
  assert.equal(endStatus({ code: null, signal: "SIGTERM" }).status, "signal: terminated");
  assert.equal(endStatus({ code: null, signal: "SIGWINCH" }).status, "signal: SIGWINCH");
});

test("signal numbers map to names", () => {
  assert.equal(signalName(9), "SIGKILL");
  assert.equal(signalName(15), "SIGTERM");
  assert.equal(signalName(12345), "signal 12345");
});
