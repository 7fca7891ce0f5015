import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LightHeaders } from "./light-headers.js";

// Differential tests: every operation is run on LightHeaders and on Node's own
// (undici) Headers, and the observable results must be the same.

type Op = (h: Headers | LightHeaders) => unknown;

/** Runs `ops` on both implementations, comparing each result and the final iteration. */
function same(init: ConstructorParameters<typeof LightHeaders>[0], ops: readonly Op[] = []): void {
  const real = new Headers(init as ConstructorParameters<typeof Headers>[0]);
  const light = new LightHeaders(init);
  for (const op of ops)
    assert.deepEqual(
      outcome(() => op(light)),
      outcome(() => op(real)),
    );
  assert.deepEqual([...light], [...real]);
  assert.deepEqual([...light.keys()], [...real.keys()]);
  assert.deepEqual([...light.values()], [...real.values()]);
  const seen: string[][] = [];
  light.forEach((v, k, parent) => {
    assert.equal(parent, light);
    seen.push([k, v]);
  });
  assert.deepEqual(seen, [...real]);
}

/** A result or the class of the error thrown (messages differ between the two). */
function outcome(fn: () => unknown): unknown {
  try {
    const r = fn();
    return { ok: r === undefined ? "undefined" : r };
  } catch (err) {
    return { threw: err instanceof TypeError ? "TypeError" : String(err) };
  }
}

describe("LightHeaders behaves like the Fetch standard's Headers", () => {
  it("builds from a record, pairs and another Headers", () => {
    same({ "Content-Type": "application/proto", "X-A": " padded\t" });
    same([
      ["Accept", "a"],
      ["accept", "b"],
      ["Set-Cookie", "x=1"],
      ["set-cookie", "y=2"],
    ]);
    same(new LightHeaders({ b: "2", a: "1" }));
    same(undefined);
  });

  it("appends, sets, deletes and reads case-insensitively", () => {
    same({}, [
      (h) => h.append("Connect-Protocol-Version", "1"),
      (h) => h.append("connect-protocol-version", "2"),
      (h) => h.get("CONNECT-PROTOCOL-VERSION"),
      (h) => h.has("connect-protocol-version"),
      (h) => h.set("Connect-Protocol-Version", "3"),
      (h) => h.get("connect-protocol-version"),
      (h) => h.append("set-cookie", "a=1"),
      (h) => h.append("Set-Cookie", "b=2"),
      (h) => h.get("set-cookie"),
      (h) => h.getSetCookie(),
      (h) => h.delete("SET-COOKIE"),
      (h) => h.get("set-cookie"),
      (h) => h.get("absent"),
      (h) => h.has("absent"),
    ]);
  });

  it("refuses invalid names and values the same way", () => {
    same({}, [
      (h) => h.append("bad name", "v"),
      (h) => h.append("", "v"),
      (h) => h.set("x", "line\nbreak"),
      (h) => h.set("x", "nul\0"),
      (h) => h.get("bad:name"),
      (h) => h.has("ü"),
      (h) => h.set("x", "  trimmed  "),
      (h) => h.get("x"),
      (h) => h.set("y", ""),
      (h) => h.get("y"),
    ]);
    assert.throws(() => new LightHeaders([["only-a-name"]]), TypeError);
    assert.throws(
      () => new Headers([["only-a-name"]] as unknown as ConstructorParameters<typeof Headers>[0]),
      TypeError,
    );
  });

  it("never puts a refused value into its error message", () => {
    assert.throws(
      () => new LightHeaders().set("authorization", "secret\nvalue"),
      (err: Error) => err instanceof TypeError && !err.message.includes("secret"),
    );
  });
});
