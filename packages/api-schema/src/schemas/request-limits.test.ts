/** Request schemas reject out-of-range and malformed input, and ignore unknown fields. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exampleId } from "../primitives/ids.js";
import { type Check, compileCheck, createAjv } from "../testing/json-validator.js";
import { AuditLogQuery } from "./audit.js";
import { SignupRequest } from "./auth.js";
import { CreateBuildRequest } from "./builds.js";
import { CreateCapsuleRequest } from "./capsules.js";
import { CreateChannelRequest } from "./channels.js";
import { ExecRequest } from "./exec.js";
import { ListDirRequest } from "./files.js";
import { RegisterHostRequest } from "./hosts.js";
import { TeamNameRequest, UserSearchQuery } from "./teams.js";

const ajv = createAjv({ strict: true });
const valid = (check: Check, value: unknown): boolean => check(value).length === 0;

function expectLimits(schema: object, base: object, good: object[], bad: object[]): void {
  const check = compileCheck(ajv, schema);
  assert.ok(valid(check, base), `base ${JSON.stringify(base)}: ${JSON.stringify(check(base))}`);
  for (const patch of good) assert.ok(valid(check, { ...base, ...patch }), `rejected ${JSON.stringify(patch)}`);
  for (const patch of bad) assert.ok(!valid(check, { ...base, ...patch }), `accepted ${JSON.stringify(patch)}`);
}

describe("request limits", () => {
  it("create capsule: vCPUs 1-64, memory 128 MiB-256 GiB, TTL 0-30 days, SafeName template", () => {
    expectLimits(
      CreateCapsuleRequest,
      {},
      [{ vcpus: 1 }, { vcpus: 64 }, { memory_mb: 128 }, { timeout_sec: 0 }, { template: "code-runner-beta" }, { x: 1 }],
      [
        { vcpus: 0 },
        { vcpus: 65 },
        { vcpus: 1.5 },
        { vcpus: "2" },
        { memory_mb: 127 },
        { memory_mb: 262_145 },
        { timeout_sec: -1 },
        { timeout_sec: 2_592_001 },
        { template: "bad name" },
        { template: "" },
      ],
    );
  });

  it("exec: non-empty cmd, bounded args and timeout, tag not all digits", () => {
    expectLimits(
      ExecRequest,
      { cmd: "/bin/sh" },
      [{ args: ["-c", "echo"] }, { timeout_sec: 86_400 }, { background: true, tag: "bg-test" }, { cwd: "/tmp" }],
      [
        { cmd: "" },
        { timeout_sec: 86_401 },
        { timeout_sec: -1 },
        { tag: "123" },
        { args: "echo" },
        { args: Array.from({ length: 1025 }, () => "x") },
        { envs: { "A=B": "c" } },
        { cwd: "" },
      ],
    );
  });

  it("list dir: depth 0-16", () => {
    expectLimits(ListDirRequest, { path: "/" }, [{ depth: 0 }, { depth: 16 }], [{ depth: -1 }, { depth: 17 }]);
  });

  it("sign-up: email format, password 8-1024, name 1-100", () => {
    expectLimits(
      SignupRequest,
      { email: "a@example.com", password: "12345678", name: "A" },
      [{ name: "x".repeat(100) }],
      [{ email: "not-an-email" }, { password: "1234567" }, { password: "x".repeat(1025) }, { name: "" }],
    );
  });

  it("teams and user search follow the reference's name and prefix rules", () => {
    expectLimits(
      TeamNameRequest,
      { name: "Alice's Team" },
      [{ name: "a@b_c-d" }],
      [{ name: "" }, { name: "a/b" }, { name: "x".repeat(129) }],
    );
    expectLimits(UserSearchQuery, { email: "al@" }, [{ email: "alice@ex" }], [{ email: "al" }, { email: "alice" }]);
  });

  it("channels: known provider, config keys, 1-8 distinct events", () => {
    expectLimits(
      CreateChannelRequest,
      { name: "Ops alerts", provider: "slack", config: { webhook_url: "https://x" }, events: ["capsule.created"] },
      [{ events: ["host.up", "host.down"] }, { name: "ops" }],
      [
        { provider: "email" },
        { events: [] },
        { events: ["capsule.created", "capsule.created"] },
        { events: ["capsule.exploded"] },
        { config: { "Webhook-URL": "x" } },
        { name: "-ops" },
      ],
    );
  });

  it("audit: limit 1-200, id cursor, filter values", () => {
    expectLimits(
      AuditLogQuery,
      {},
      [{ limit: 1 }, { limit: 200 }, { before_id: exampleId("auditLog") }, { resource_type: ["sandbox,team"] }],
      [{ limit: 0 }, { limit: 201 }, { before_id: exampleId("capsule") }, { action: ["DROP TABLE"] }],
    );
  });

  it("host registration: address host:port, bounded token", () => {
    expectLimits(
      RegisterHostRequest,
      { token: "t", address: "10.0.0.5:50051" },
      [{ address: "[::1]:50051" }, { address: "agent.example.com:443" }, { cpu_cores: 8 }],
      [{ address: "10.0.0.5" }, { address: "http://x:1" }, { token: "" }, { token: "x".repeat(513) }],
    );
  });

  it("builds: SafeName, at least one recipe step", () => {
    expectLimits(
      CreateBuildRequest,
      { name: "code-runner", recipe: ["RUN true"] },
      [{ base_template: "minimal", vcpus: 2, skip_pre_post: true }],
      [{ recipe: [] }, { recipe: [""] }, { name: "a b" }, { vcpus: 0 }],
    );
  });
});
