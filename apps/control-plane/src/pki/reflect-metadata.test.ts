import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reflectMetadataFunctions as m } from "./reflect-metadata.js";

describe("Reflect metadata subset", () => {
  it("is installed on Reflect when absent", () => {
    const reflect = Reflect as unknown as Record<string, unknown>;
    assert.equal(typeof reflect["getMetadata"], "function");
    assert.equal(typeof reflect["defineMetadata"], "function");
  });

  it("stores metadata per target and property, inherited through prototypes", () => {
    class Base {}
    class Derived extends Base {}
    m.defineMetadata("k", 1, Base);
    m.defineMetadata("k", "p", Base, "method");
    assert.equal(m.getMetadata("k", Derived), 1);
    assert.equal(m.getOwnMetadata("k", Derived), undefined);
    assert.equal(m.hasMetadata("k", Derived), true);
    assert.equal(m.hasOwnMetadata("k", Derived), false);
    assert.equal(m.getMetadata("k", Base, "method"), "p");
    m.metadata("k", 2)(Derived);
    assert.equal(m.getMetadata("k", Derived), 2);
    assert.equal(m.getMetadata("k", Base), 1);
    assert.equal(m.getMetadata("missing", Derived), undefined);
    assert.equal(m.hasMetadata("missing", Derived), false);
  });

  it("distinguishes undefined values from missing keys", () => {
    const target = {};
    m.defineMetadata("u", undefined, target);
    assert.equal(m.hasOwnMetadata("u", target), true);
    assert.equal(m.getMetadata("u", target), undefined);
  });
});
