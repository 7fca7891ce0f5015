import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newProcessTag, newPtyTag, newSnapshotName, newTeamSlug, TEAM_SLUG_RE } from "./generators.js";

/** A byte source that returns 0x00, 0x01, 0x02, … so the outputs can be pinned exactly. */
function countingBytes(): (size: number) => Uint8Array {
  let next = 0;
  return (size) => Uint8Array.from({ length: size }, () => next++ & 0xff);
}

describe("generators", () => {
  it("format the random bytes exactly", () => {
    assert.equal(newTeamSlug(countingBytes()), "000102-030405");
    assert.equal(newPtyTag(countingBytes()), "pty-00010203");
    assert.equal(newProcessTag(countingBytes()), "proc-00010203");
    assert.equal(newSnapshotName(countingBytes()), "template-00010203");
  });

  it("produce well-formed, distinct values from the CSPRNG", () => {
    const cases: Array<[() => string, RegExp]> = [
      [newTeamSlug, TEAM_SLUG_RE],
      [newPtyTag, /^pty-[0-9a-f]{8}$/],
      [newProcessTag, /^proc-[0-9a-f]{8}$/],
      [newSnapshotName, /^template-[0-9a-f]{8}$/],
    ];
    for (const [make, shape] of cases) {
      const seen = new Set<string>();
      for (let i = 0; i < 500; i++) {
        const value = make();
        assert.match(value, shape);
        seen.add(value);
      }
      // 32+ random bits each: 500 draws colliding would mean the source is broken.
      assert.equal(seen.size, 500);
    }
  });
});
