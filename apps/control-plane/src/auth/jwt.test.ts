import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { newPublicId } from "../ids/public-id.js";
import { JwtCodec, type UserTokenSubject } from "./jwt.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const T0 = Date.UTC(2030, 0, 1);

/** A codec whose clock the test moves by hand. */
function codecAt(start = T0, secret = SECRET) {
  let now = start;
  const codec = new JwtCodec({ secret, now: () => now });
  return { codec, setNow: (ms: number) => (now = ms) };
}

const user = newPublicId("user");
const team = newPublicId("team");
const host = newPublicId("host");
const subject: UserTokenSubject = {
  userId: user.id,
  teamId: team.id,
  role: "admin",
  email: "a@example.com",
  name: "Ada",
};

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs arbitrary header/payload JSON with `secret`: how tests forge tokens our signer would never emit. */
function forge(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

const iat = Math.floor(T0 / 1000);
const validUserClaims = {
  sub: user.id,
  team_id: team.id,
  role: "member",
  email: "e@x.io",
  name: "N",
  iat,
  exp: iat + 60,
};

describe("JwtCodec user tokens", () => {
  it("round-trips the claims and resolves the UUIDs", () => {
    const { codec } = codecAt();
    const token = codec.signUser(subject);
    const [header] = token.split(".");
    assert.deepEqual(JSON.parse(Buffer.from(header ?? "", "base64url").toString()), { alg: "HS256", typ: "JWT" });
    assert.deepEqual(codec.verifyUser(token), {
      ok: true,
      claims: {
        sub: user.id,
        team_id: team.id,
        role: "admin",
        email: "a@example.com",
        name: "Ada",
        iat,
        exp: iat + 6 * 3600,
      },
      userUuid: user.uuid,
      teamUuid: team.uuid,
    });
  });

  it("carries is_admin only when true", () => {
    const { codec } = codecAt();
    const admin = codec.verifyUser(codec.signUser({ ...subject, isAdmin: true }));
    const plain = codec.verifyUser(codec.signUser({ ...subject, isAdmin: false }));
    assert.ok(admin.ok && plain.ok);
    assert.equal(admin.claims.is_admin, true);
    assert.equal("is_admin" in plain.claims, false);
  });

  it("produces a standard HS256 signature (checked with an independent HMAC)", () => {
    const { codec } = codecAt();
    const token = codec.signUser(subject);
    const cut = token.lastIndexOf(".");
    const expected = createHmac("sha256", SECRET).update(token.slice(0, cut)).digest("base64url");
    assert.equal(token.slice(cut + 1), expected);
  });

  it("expires after 6 hours, with 30 s of clock skew", () => {
    const { codec, setNow } = codecAt();
    const token = codec.signUser(subject);
    setNow(T0 + (6 * 3600 + 30) * 1000);
    assert.equal(codec.verifyUser(token).ok, true);
    setNow(T0 + (6 * 3600 + 31) * 1000);
    assert.deepEqual(codec.verifyUser(token), { ok: false, reason: "expired" });
  });

  it("rejects tokens issued in the future beyond the skew", () => {
    const future = codecAt(T0 + 120_000).codec.signUser(subject);
    assert.deepEqual(codecAt().codec.verifyUser(future), { ok: false, reason: "not_yet_valid" });
    const nbf = forge({ alg: "HS256", typ: "JWT" }, { ...validUserClaims, nbf: iat + 3600 });
    assert.deepEqual(codecAt().codec.verifyUser(nbf), { ok: false, reason: "not_yet_valid" });
  });

  it("rejects host tokens", () => {
    const { codec } = codecAt();
    assert.deepEqual(codec.verifyUser(codec.signHost(host.id)), { ok: false, reason: "wrong_type" });
    const typed = forge({ alg: "HS256" }, { ...validUserClaims, typ: "user" });
    assert.deepEqual(codec.verifyUser(typed), { ok: false, reason: "wrong_type" });
  });

  it("rejects signed tokens with missing or mistyped claims", () => {
    const { codec } = codecAt();
    const header = { alg: "HS256", typ: "JWT" };
    assert.equal(codec.verifyUser(forge(header, validUserClaims)).ok, true);
    const broken: Record<string, unknown>[] = [
      { ...validUserClaims, sub: team.id },
      { ...validUserClaims, team_id: "team-123" },
      { ...validUserClaims, role: "superuser" },
      { ...validUserClaims, email: 5 },
      { ...validUserClaims, name: undefined },
      { ...validUserClaims, is_admin: "yes" },
      { ...validUserClaims, iat: String(iat) },
      { ...validUserClaims, exp: iat + 0.5 },
      { ...validUserClaims, exp: undefined },
    ];
    for (const claims of broken) {
      assert.deepEqual(
        codec.verifyUser(forge(header, claims)),
        { ok: false, reason: "invalid_claims" },
        JSON.stringify(claims),
      );
    }
  });
});

describe("JwtCodec host tokens", () => {
  it("round-trip and last 7 days", () => {
    const { codec, setNow } = codecAt();
    const token = codec.signHost(host.id);
    assert.deepEqual(codec.verifyHost(token), {
      ok: true,
      claims: { typ: "host", host_id: host.id, sub: host.id, iat, exp: iat + 7 * 86400 },
      hostUuid: host.uuid,
    });
    setNow(T0 + (7 * 86400 + 31) * 1000);
    assert.deepEqual(codec.verifyHost(token), { ok: false, reason: "expired" });
  });

  it("reject user tokens and inconsistent host claims", () => {
    const { codec } = codecAt();
    assert.deepEqual(codec.verifyHost(codec.signUser(subject)), { ok: false, reason: "wrong_type" });
    const claims = { typ: "host", host_id: host.id, sub: host.id, iat, exp: iat + 60 };
    assert.equal(codec.verifyHost(forge({ alg: "HS256" }, claims)).ok, true);
    const other = newPublicId("host").id;
    assert.deepEqual(codec.verifyHost(forge({ alg: "HS256" }, { ...claims, sub: other })), {
      ok: false,
      reason: "invalid_claims",
    });
    assert.deepEqual(codec.verifyHost(forge({ alg: "HS256" }, { ...claims, host_id: user.id, sub: user.id })), {
      ok: false,
      reason: "invalid_claims",
    });
  });
});

describe("JwtCodec rejects hostile input without throwing", () => {
  const { codec } = codecAt();
  const good = codec.signUser(subject);
  const [goodHeader, goodPayload, goodSignature] = good.split(".") as [string, string, string];

  it("other algorithms, including none", () => {
    for (const alg of ["none", "None", "HS512", "RS256", "hs256", undefined]) {
      const token = forge({ alg, typ: "JWT" }, validUserClaims);
      assert.deepEqual(codec.verifyUser(token), { ok: false, reason: "unsupported_algorithm" }, String(alg));
    }
    assert.deepEqual(codec.verifyUser(forge({ alg: "HS256", crit: ["exp"] }, validUserClaims)), {
      ok: false,
      reason: "unsupported_algorithm",
    });
    // The classic unsigned token: empty signature part.
    const unsigned = `${b64url({ alg: "none" })}.${b64url(validUserClaims)}.`;
    assert.equal(codec.verifyUser(unsigned).ok, false);
  });

  it("a foreign secret or an edited payload", () => {
    const foreign = codecAt(T0, "another-secret-that-is-long-enough-xyz").codec.signUser(subject);
    assert.deepEqual(codec.verifyUser(foreign), { ok: false, reason: "bad_signature" });
    const escalated = `${goodHeader}.${b64url({ ...validUserClaims, role: "owner", is_admin: true })}.${goodSignature}`;
    assert.deepEqual(codec.verifyUser(escalated), { ok: false, reason: "bad_signature" });
    assert.deepEqual(codec.verifyUser(`${goodHeader}.${goodPayload}.${goodSignature.slice(0, -2)}`), {
      ok: false,
      reason: "bad_signature",
    });
  });

  it("structurally broken tokens of any size", () => {
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      {},
      "",
      "..",
      "a.b",
      `${good}.x`,
      `${goodHeader}..${goodSignature}`,
      `${goodHeader}.${goodPayload}.${goodSignature}=`,
      `${goodHeader}.${goodPayload}+.${goodSignature}`,
      ` ${good}`,
      `${Buffer.from("not json").toString("base64url")}.${goodPayload}.${goodSignature}`,
      `${b64url([1, 2])}.${goodPayload}.${goodSignature}`,
      `${Buffer.from([0xff, 0xfe]).toString("base64url")}.${goodPayload}.${goodSignature}`,
      `${good}${"A".repeat(1_000_000)}`,
      "x".repeat(5_000_000),
    ];
    for (const input of inputs) {
      const result = codec.verifyUser(input);
      assert.equal(result.ok, false);
      assert.equal(codec.verifyHost(input).ok, false);
    }
    assert.deepEqual(codec.verifyUser(`${b64url([1])}.${goodPayload}.${goodSignature}`), {
      ok: false,
      reason: "malformed",
    });
  });

  it("every single-character edit of a valid token", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (let i = 0; i < good.length; i++) {
      const at = alphabet.indexOf(good[i] ?? "");
      // A neighbour (often only the low bits differ) and a far character.
      for (const shift of [1, 33]) {
        const edited = good.slice(0, i) + alphabet[(at + shift) % alphabet.length] + good.slice(i + 1);
        assert.notEqual(edited, good);
        assert.equal(codec.verifyUser(edited).ok, false, `edit at ${i}`);
      }
    }
  });
});

describe("JwtCodec construction", () => {
  it("refuses short secrets without echoing them", () => {
    const short = "s".repeat(31);
    assert.throws(
      () => new JwtCodec({ secret: short }),
      (e) => e instanceof PlatformError && e.reason === "JWT_SECRET_TOO_SHORT" && !e.message.includes(short),
    );
    assert.doesNotThrow(() => new JwtCodec({ secret: "s".repeat(32) }));
  });

  it("refuses to sign for ids of the wrong kind", () => {
    const { codec } = codecAt();
    assert.throws(() => codec.signUser({ ...subject, userId: team.id }), TypeError);
    assert.throws(() => codec.signUser({ ...subject, role: "root" as "owner" }), TypeError);
    assert.throws(() => codec.signHost(user.id), TypeError);
  });
});
