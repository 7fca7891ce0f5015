/**
 * The static types the SDK, CLI and control plane rely on. The type checks
 * run when `tsc -b` builds this file; the runtime checks make sure the
 * catalog hands Fastify the very schemas these types come from.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ApiOperationId,
  apiRoutes,
  type Capsule,
  CreateCapsuleRequest,
  type ErrorCode,
  ExecRequest,
  type ExecResponse,
  type PtyClientMessage,
  type Static,
} from "./index.js";

type Equals<TA, TB> = (<T>() => T extends TA ? 1 : 2) extends <T>() => T extends TB ? 1 : 2 ? true : false;
const expectType = <T extends true>(value: T): T => value;

describe("static types", () => {
  it("infer capsule fields, required and optional, as the wire has them", () => {
    expectType<
      Equals<
        Capsule["status"],
        "pending" | "starting" | "running" | "paused" | "hibernated" | "stopped" | "missing" | "error"
      >
    >(true);
    expectType<Equals<Capsule["started_at"], string | undefined>>(true);
    expectType<Equals<Capsule["vcpus"], number>>(true);
    expectType<Equals<ExecResponse["encoding"], "utf-8" | "base64">>(true);
    const capsule: Capsule = {
      id: "cl-3n1k7e0q5v2m8x4c6b9z1a7d2",
      status: "running",
      template: "minimal",
      vcpus: 1,
      memory_mb: 512,
      timeout_sec: 0,
      created_at: "2026-05-02T10:15:30Z",
      last_updated: "2026-05-02T10:15:30Z",
    };
    assert.equal(capsule.started_at, undefined);
  });

  it("keep each route's schema types, so Fastify's type provider types the handlers", () => {
    type CreateBody = Static<typeof apiRoutes.createCapsule.schema.body>;
    expectType<Equals<CreateBody, Static<typeof CreateCapsuleRequest>>>(true);
    type ExecAccepted = Static<(typeof apiRoutes.execCommand.schema.response)[202]>;
    expectType<Equals<ExecAccepted["tag"], string>>(true);
    expectType<Equals<Static<typeof apiRoutes.adminExecCommand.schema.body>, Static<typeof ExecRequest>>>(true);
    assert.equal(apiRoutes.createCapsule.schema.body, CreateCapsuleRequest);
    assert.equal(apiRoutes.adminExecCommand.schema.body, ExecRequest);
    assert.equal(apiRoutes.execCommand.schema.params, apiRoutes.adminExecCommand.schema.params);
  });

  it("narrow unions and catalogs to literal names", () => {
    expectType<Equals<Extract<PtyClientMessage, { type: "resize" }>["cols"], number>>(true);
    const code: ErrorCode = "has_active_sandboxes";
    const operation: ApiOperationId = "adminPtySession";
    assert.equal(apiRoutes[operation].auth, "admin_ws");
    assert.equal(code.length > 0, true);
  });
});
