import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "./api-error.js";
import { AttemptLimiter } from "./attempt-limiter.js";

describe("AttemptLimiter", () => {
  const make = (extra: { maxKeys?: number } = {}) => {
    let now = 1_000_000;
    const limiter = new AttemptLimiter({ limit: 3, windowMs: 60_000, what: "tries", now: () => now, ...extra });
    return { limiter, advance: (ms: number) => (now += ms) };
  };
  const refused = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ApiError);
      return err;
    }
    assert.fail("expected a 429");
  };

  it("allows `limit` attempts per window, then 429 with the seconds left, then allows again", () => {
    const { limiter, advance } = make();
    for (let i = 0; i < 3; i++) {
      limiter.check("a");
      limiter.hit("a");
    }
    advance(15_500);
    const err = refused(() => limiter.check("a"));
    assert.deepEqual([err.status, err.code, err.extra], [429, "too_many_requests", { retry_after_sec: 45 }]);
    assert.match(err.message, /too many tries; try again in 45 s/);
    limiter.check("b");
    advance(44_500);
    limiter.check("a");
    limiter.hit("a");
    limiter.check("a");
  });

  it("reset clears a key", () => {
    const { limiter } = make();
    for (let i = 0; i < 3; i++) limiter.hit("a");
    refused(() => limiter.check("a"));
    limiter.reset("a");
    limiter.check("a");
  });

  it("remembers at most maxKeys keys, dropping the oldest first", () => {
    const { limiter } = make({ maxKeys: 2 });
    for (const key of ["a", "b", "c"]) for (let i = 0; i < 3; i++) limiter.hit(key);
    limiter.check("a"); // evicted
    refused(() => limiter.check("b"));
    refused(() => limiter.check("c"));
  });
});
