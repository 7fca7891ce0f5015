import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { processAlive } from "./process-alive.js";

describe("processAlive", () => {
  it("is true for this process and false for one that has exited and been reaped", () => {
    assert.equal(processAlive(process.pid), true);
    const gone = spawnSync("true").pid;
    assert.ok(gone !== undefined && gone > 0);
    assert.equal(processAlive(gone), false);
  });
});
