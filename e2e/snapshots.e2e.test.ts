import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe("snapshots: capsule → team template → new capsule from it", { skip: stackSkipReason }, () => {
  let s: Stack;
  before(async () => {
    s = await startStack();
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  test("a file written before the snapshot is in capsules made from it; names are checked; delete", async () => {
    const { id } = await body<{ id: string }>(await s.api("/v1/capsules", json({})), 201);
    const write = await s.api(
      `/v1/capsules/${id}/exec`,
      json({ cmd: "/bin/sh", args: ["-c", "echo kept > /root/state.txt"] }),
    );
    await body(write, 200);

    const reserved = await s.api("/v1/snapshots", json({ sandbox_id: id, name: "minimal" }));
    assert.equal((await body<{ error: { code: string } }>(reserved, 409)).error.code, "name_reserved");

    const tpl = await body<{ name: string; type: string; platform: boolean; size_bytes: number }>(
      await s.api("/v1/snapshots", json({ sandbox_id: id, name: "with-state" })),
      201,
    );
    assert.deepEqual([tpl.name, tpl.type, tpl.platform], ["with-state", "snapshot", false]);
    assert.ok(tpl.size_bytes > 0);
    const after = await body<{ status: string }>(await s.api(`/v1/capsules/${id}`), 200);
    assert.equal(after.status, "paused", "the capsule stays paused after the snapshot");

    const taken = await s.api("/v1/snapshots", json({ sandbox_id: id, name: "with-state" }));
    assert.equal((await body<{ error: { code: string } }>(taken, 409)).error.code, "template_name_taken");

    const list = await body<{ name: string; platform: boolean }[]>(await s.api("/v1/snapshots"), 200);
    assert.ok(list.some((t) => t.name === "with-state" && !t.platform));
    assert.ok(list.some((t) => t.name === "minimal" && t.platform));
    const other = await body<{ name: string }[]>(await s.api("/v1/snapshots", { key: s.teamB.apiKey }), 200);
    assert.ok(!other.some((t) => t.name === "with-state"), "other teams do not see it");

    const clone = await body<{ id: string; template: string }>(
      await s.api("/v1/capsules", json({ template: "with-state" })),
      201,
    );
    assert.equal(clone.template, "with-state");
    const read = await body<{ stdout: string }>(
      await s.api(`/v1/capsules/${clone.id}/exec`, json({ cmd: "/bin/cat", args: ["/root/state.txt"] })),
      200,
    );
    assert.equal(read.stdout, "kept\n");

    assert.equal((await s.api("/v1/snapshots/minimal", { method: "DELETE" })).status, 403);
    assert.equal((await s.api(`/v1/capsules/${clone.id}`, { method: "DELETE" })).status, 204);
    assert.equal((await s.api("/v1/snapshots/with-state", { method: "DELETE" })).status, 204);
    assert.equal((await s.api("/v1/snapshots/with-state", { method: "DELETE" })).status, 404);
    assert.equal((await s.api(`/v1/capsules/${id}`, { method: "DELETE" })).status, 204);
  });
});
