import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Type from "typebox";
import { Capsule } from "../schemas/capsules.js";
import { ExecResponse } from "../schemas/exec.js";
import { generateExamples, generateInstance } from "./example-generator.js";

describe("example generator", () => {
  it("is deterministic", () => {
    assert.deepEqual(generateExamples(Capsule), generateExamples(Capsule));
  });

  it("covers every enum value and both shapes of optional fields", () => {
    const instances = generateExamples(Capsule) as Record<string, unknown>[];
    const statuses = new Set(instances.map((c) => c["status"]));
    assert.equal(statuses.size, 8);
    assert.ok(
      instances.some((c) => !("started_at" in c)),
      "an instance without optional fields",
    );
    assert.ok(
      instances.some((c) => "started_at" in c && "metadata" in c),
      "an instance with all fields",
    );
    const encodings = new Set((generateExamples(ExecResponse) as Record<string, unknown>[]).map((r) => r["encoding"]));
    assert.deepEqual([...encodings].sort(), ["base64", "utf-8"]);
  });

  it("respects bounds and formats", () => {
    const schema = Type.Object({
      n: Type.Integer({ minimum: 5, maximum: 9 }),
      s: Type.String({ minLength: 12 }),
      d: Type.String({ format: "date-time" }),
      list: Type.Array(Type.Boolean(), { minItems: 3 }),
      nothing: Type.Null(),
    });
    const value = generateInstance(schema, { variant: 1, optional: "all" }) as Record<string, unknown>;
    assert.equal(value["n"], 5);
    assert.ok(String(value["s"]).length >= 12);
    assert.match(String(value["d"]), /^\d{4}-\d{2}-\d{2}T/);
    assert.deepEqual(value["list"], [false, true, false]);
    assert.equal(value["nothing"], null);
  });

  it("refuses to guess strings for patterns without examples", () => {
    assert.throws(
      () =>
        generateInstance(Type.Object({ id: Type.String({ pattern: "^x-[0-9]+$" }) }), { variant: 0, optional: "all" }),
      /at \/id has a pattern but no examples/,
    );
  });
});
