import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CapsuleStatus } from "../capsules/capsules.repo.js";
import { type AgentReport, heartbeatVerdict, isOrphan, planReconcile, type TrackedCapsule } from "./host-reconcile.js";

const NOW = Date.UTC(2030, 0, 1, 12);
const STALE = 90_000;

function capsule(publicId: string, status: CapsuleStatus): TrackedCapsule {
  return { id: `uuid-${publicId}`, publicId, teamId: "team-uuid", status };
}

function report(sandboxes: Record<string, string>, autoPaused: string[] = []): AgentReport {
  return { sandboxes: new Map(Object.entries(sandboxes)), autoPaused: new Set(autoPaused) };
}

describe("heartbeatVerdict", () => {
  const cases: Array<[string, "online" | "unreachable" | "draining", number | null, string]> = [
    ["just beat", "online", 0, "fresh"],
    ["at the limit", "online", STALE, "fresh"],
    ["past the limit", "online", STALE + 1, "stale"],
    ["never beat", "online", null, "stale"],
    ["draining and silent", "draining", STALE + 1, "stale"],
    ["already down", "unreachable", STALE + 1, "already_down"],
    ["down, never beat", "unreachable", null, "already_down"],
    ["unreachable but a fresh beat (about to flip back)", "unreachable", 1000, "fresh"],
  ];
  for (const [name, status, ago, expected] of cases) {
    test(name, () => {
      const lastHeartbeatAt = ago === null ? null : new Date(NOW - ago);
      assert.equal(heartbeatVerdict({ status, lastHeartbeatAt }, NOW, STALE), expected);
    });
  }
});

describe("planReconcile", () => {
  const cases: Array<[string, CapsuleStatus, Record<string, string>, string[], string | undefined]> = [
    ["missing and alive comes back", "missing", { a: "running" }, [], "running"],
    ["missing and gone is stopped", "missing", {}, [], "stopped"],
    ["missing, paused by the agent while we were away (B.5)", "missing", { a: "paused" }, ["a"], "paused"],
    ["missing and reported auto-paused only", "missing", {}, ["a"], "paused"],
    ["running and alive: nothing", "running", { a: "running" }, [], undefined],
    ["running and gone is stopped", "running", {}, [], "stopped"],
    ["running, auto-paused by the TTL reaper", "running", { a: "paused" }, ["a"], "paused"],
    ["running, paused on the agent though not reported", "running", { a: "paused" }, [], "paused"],
    ["running and being destroyed on the agent", "running", { a: "stopping" }, [], "stopped"],
    ["running and gone on the agent", "running", { a: "gone" }, [], "stopped"],
    ["running, stale auto-paused report but running again", "running", { a: "running" }, ["a"], undefined],
    ["running while the agent says creating: left alone", "running", { a: "creating" }, [], undefined],
    ["pending: never judged", "pending", {}, [], undefined],
    ["paused: never judged", "paused", {}, [], undefined],
  ];
  for (const [name, status, sandboxes, autoPaused, expected] of cases) {
    test(name, () => {
      const row = capsule("a", status);
      const plan = planReconcile([row], report(sandboxes, autoPaused));
      assert.deepEqual(plan.transitions, expected === undefined ? [] : [{ capsule: row, to: expected }]);
    });
  }

  test("untracked: what the agent holds that no active row tracks (gone and stopping ones excluded)", () => {
    const rows = [capsule("a", "running"), capsule("p", "paused"), capsule("n", "pending")];
    const plan = planReconcile(
      rows,
      report({ a: "running", p: "paused", n: "creating", x: "running", y: "paused", z: "stopping", w: "gone" }),
    );
    assert.deepEqual(plan.untracked, ["x", "y"]);
    assert.deepEqual(plan.transitions, []);
  });

  test("several capsules at once, each on its own", () => {
    const rows = [capsule("a", "missing"), capsule("b", "running"), capsule("c", "running")];
    const plan = planReconcile(rows, report({ a: "running", c: "running" }));
    assert.deepEqual(
      plan.transitions.map((t) => [t.capsule.publicId, t.to]),
      [
        ["a", "running"],
        ["b", "stopped"],
      ],
    );
  });
});

describe("isOrphan", () => {
  const host = "host-uuid";
  const cases: Array<[string, { hostId: string; status: CapsuleStatus } | undefined, boolean]> = [
    ["stopped on this host", { hostId: host, status: "stopped" }, true],
    ["failed to create on this host", { hostId: host, status: "error" }, true],
    ["unknown to the database", undefined, false],
    ["stopped, but recorded on another host", { hostId: "other", status: "stopped" }, false],
    ["still pending", { hostId: host, status: "pending" }, false],
    ["running", { hostId: host, status: "running" }, false],
  ];
  for (const [name, row, expected] of cases) {
    test(name, () => assert.equal(isOrphan(row, host), expected));
  }
});
