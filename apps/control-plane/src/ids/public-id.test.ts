import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  ID_PREFIXES,
  type IdKind,
  isPublicId,
  isUuid,
  newPublicId,
  newUuid,
  PLATFORM_TEAM_ID,
  parsePublicId,
  toPublicId,
} from "./public-id.js";

/** A UUID made of arbitrary bytes (not only version 4), so the whole 128-bit range is exercised. */
function randomUuidOfAnyBits(): string {
  const h = randomBytes(16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const kinds = Object.keys(ID_PREFIXES) as IdKind[];
const MAX_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

describe("toPublicId / parsePublicId", () => {
  it("pins the encoding at the edges of the range", () => {
    assert.equal(toPublicId("user", PLATFORM_TEAM_ID), `usr-${"0".repeat(25)}`);
    assert.equal(toPublicId("team", "00000000-0000-0000-0000-000000000024"), `team-${"0".repeat(23)}10`);
    // 2^128 - 1 in base36 is exactly 25 digits: no padding, and the largest valid body.
    assert.equal(toPublicId("capsule", MAX_UUID), "cl-f5lxx1zz5pnorynqglhzmsp33");
  });

  it("round-trips random 128-bit values for every kind", () => {
    for (let i = 0; i < 2000; i++) {
      const kind = kinds[i % kinds.length] ?? "user";
      const uuid = i % 2 === 0 ? newUuid() : randomUuidOfAnyBits();
      const id = toPublicId(kind, uuid);
      assert.ok(id.startsWith(ID_PREFIXES[kind]));
      assert.equal(id.length, ID_PREFIXES[kind].length + 25);
      assert.deepEqual(parsePublicId(kind, id), { ok: true, uuid });
    }
  });

  it("keeps UUID order: fixed width makes string order numeric order", () => {
    const uuids = Array.from({ length: 300 }, randomUuidOfAnyBits).sort();
    const ids = uuids.map((u) => toPublicId("capsule", u));
    assert.deepEqual([...ids].sort(), ids);
  });

  it("rejects another kind's prefix and prefix look-alikes", () => {
    const uuid = newUuid();
    assert.deepEqual(parsePublicId("user", toPublicId("team", uuid)), { ok: false, reason: "wrong_prefix" });
    assert.deepEqual(parsePublicId("host", toPublicId("hostToken", uuid)), { ok: false, reason: "wrong_prefix" });
    const body = toPublicId("user", uuid).slice(4);
    for (const text of [`USR-${body}`, `usr${body}`, ` usr-${body}`, body, ""]) {
      assert.deepEqual(parsePublicId("user", text), { ok: false, reason: "wrong_prefix" }, text);
    }
  });

  it("rejects non-strings without throwing", () => {
    for (const value of [undefined, null, 42, {}, ["usr-"], Symbol("x")]) {
      assert.deepEqual(parsePublicId("user", value), { ok: false, reason: "wrong_prefix" });
      assert.equal(isPublicId("user", value), false);
    }
  });

  it("rejects bodies of the wrong length, including huge inputs", () => {
    const id = toPublicId("apiKey", newUuid());
    assert.deepEqual(parsePublicId("apiKey", id.slice(0, -1)), { ok: false, reason: "wrong_length" });
    assert.deepEqual(parsePublicId("apiKey", `${id}0`), { ok: false, reason: "wrong_length" });
    assert.deepEqual(parsePublicId("apiKey", "key-"), { ok: false, reason: "wrong_length" });
    assert.deepEqual(parsePublicId("apiKey", `key-${"0".repeat(1_000_000)}`), { ok: false, reason: "wrong_length" });
  });

  it("rejects characters outside lowercase base36", () => {
    const body = toPublicId("channel", newUuid()).slice(3);
    for (const bad of ["A", "-", "_", " ", "é", "\n", "\u0000", "+"]) {
      const text = `ch-${bad}${body.slice(1)}`;
      assert.deepEqual(parsePublicId("channel", text), { ok: false, reason: "bad_character" }, JSON.stringify(text));
    }
    assert.deepEqual(parsePublicId("channel", `ch-${body.toUpperCase()}`), { ok: false, reason: "bad_character" });
  });

  it("rejects 25-digit values above 128 bits", () => {
    assert.deepEqual(parsePublicId("capsule", "cl-f5lxx1zz5pnorynqglhzmsp34"), { ok: false, reason: "overflow" });
    assert.deepEqual(parsePublicId("capsule", `cl-${"z".repeat(25)}`), { ok: false, reason: "overflow" });
    assert.deepEqual(parsePublicId("capsule", "cl-f5lxx1zz5pnorynqglhzmsp33"), { ok: true, uuid: MAX_UUID });
  });

  it("toPublicId refuses anything but a lowercase hyphenated UUID", () => {
    for (const bad of ["", "not-a-uuid", MAX_UUID.toUpperCase(), MAX_UUID.replaceAll("-", ""), `${MAX_UUID}0`]) {
      assert.throws(() => toPublicId("user", bad), TypeError, bad);
    }
  });

  it("newPublicId pairs a fresh UUID with its id", () => {
    const a = newPublicId("build");
    const b = newPublicId("build");
    assert.ok(isUuid(a.uuid));
    assert.notEqual(a.uuid, b.uuid);
    assert.deepEqual(parsePublicId("build", a.id), { ok: true, uuid: a.uuid });
  });

  it("PLATFORM_TEAM_ID is the all-zero UUID", () => {
    assert.ok(isUuid(PLATFORM_TEAM_ID));
    assert.equal(PLATFORM_TEAM_ID.replaceAll(/[-0]/g, ""), "");
  });
});
