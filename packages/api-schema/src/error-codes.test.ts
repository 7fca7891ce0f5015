import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ERROR_CODES, ErrorBody, errorStatus, HasActiveSandboxesErrorBody, isErrorCode } from "./error-codes.js";
import { exampleId } from "./primitives/ids.js";
import { compileCheck, createAjv } from "./testing/json-validator.js";

const DOC_PATH = fileURLToPath(new URL("../../../docs/errors.md", import.meta.url));

/** The rows of the first table of docs/errors.md whose first cell is a `code`. */
function documentedCodes(): { code: string; status: number; doc: string }[] {
  const rows: { code: string; status: number; doc: string }[] = [];
  for (const line of readFileSync(DOC_PATH, "utf8").split("\n")) {
    const match = /^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
    if (match?.[1] && match[2] && match[3] !== undefined) {
      rows.push({ code: match[1], status: Number(match[2]), doc: match[3] });
    }
  }
  return rows;
}

describe("error catalog", () => {
  it("is documented in docs/errors.md, row for row, in the same order", () => {
    const catalog = Object.entries(ERROR_CODES).map(([code, info]) => ({ code, status: info.status, doc: info.doc }));
    assert.deepEqual(documentedCodes(), catalog);
  });

  it("has snake_case codes with 4xx/5xx statuses and one-line docs", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[a-z][a-z0-9_]*$/, code);
      assert.ok(info.status >= 400 && info.status <= 599, `${code}: ${info.status}`);
      assert.ok(info.doc.length > 10 && !info.doc.includes("\n") && !info.doc.includes("|"), code);
    }
  });

  it("contains the reference's codes (inventory §1.4) with their statuses", () => {
    const reference: Record<string, number> = {
      not_found: 404,
      invalid_request: 400,
      conflict: 409,
      forbidden: 403,
      no_hosts_available: 503,
      agent_error: 502,
      invalid_state: 409,
      unauthorized: 401,
      internal_error: 500,
      no_team: 403,
      too_large: 413,
      host_unavailable: 503,
      signup_cooldown: 409,
      email_taken: 409,
      account_not_activated: 403,
      account_disabled: 403,
      account_deactivated: 403,
      has_active_sandboxes: 409,
      name_reserved: 409,
      template_name_taken: 409,
      invalid_token: 400,
      already_activated: 400,
      wrong_password: 401,
      last_login_method: 400,
      owns_team_with_members: 409,
      provider_not_found: 404,
      db_error: 500,
      build_error: 500,
      read_error: 400,
      internal: 500,
    };
    for (const [code, status] of Object.entries(reference)) {
      assert.ok(isErrorCode(code), `missing ${code}`);
      assert.equal(errorStatus(code), status, code);
    }
    assert.equal(isErrorCode("host_has_sandboxes"), false);
    assert.equal(isErrorCode("toString"), false, "prototype keys are not codes");
  });

  it("describes error bodies: code and message required, extra fields allowed", () => {
    const check = compileCheck(createAjv({ strict: true }), ErrorBody);
    assert.deepEqual(check({ error: { code: "not_found", message: "capsule not found" } }), []);
    assert.deepEqual(check({ error: { code: "conflict", message: "x", detail: 1 } }), []);
    assert.notDeepEqual(check({ error: { code: "not_found" } }), []);
    assert.notDeepEqual(check({ error: { code: "Not Found", message: "x" } }), []);
    assert.notDeepEqual(check({ code: "not_found", message: "x" }), []);
  });

  it("describes the has_active_sandboxes body with its capsule ids", () => {
    const check = compileCheck(createAjv({ strict: true }), HasActiveSandboxesErrorBody);
    const body = { error: { code: "has_active_sandboxes", message: "m", sandbox_ids: [exampleId("capsule")] } };
    assert.deepEqual(check(body), []);
    assert.notDeepEqual(check({ error: { ...body.error, sandbox_ids: ["sb-1"] } }), []);
    assert.notDeepEqual(check({ error: { ...body.error, code: "conflict" } }), []);
  });
});
