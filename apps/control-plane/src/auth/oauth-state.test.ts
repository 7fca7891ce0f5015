import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { newPublicId } from "../ids/public-id.js";
import { OAuthCookieSigner } from "./oauth-state.js";

const SECRET = "oauth-test-secret-0123456789abcdefghij";
const hmacHex = (input: string, secret = SECRET) => createHmac("sha256", secret).update(input).digest("hex");
const signer = new OAuthCookieSigner(SECRET);

describe("OAuth state cookie", () => {
  it("is state:HMAC(state + ':' + intent):intent", () => {
    for (const intent of ["login", "signup"] as const) {
      const { state, cookie } = signer.createState(intent);
      assert.match(state, /^[0-9a-f]{32}$/);
      assert.equal(cookie, `${state}:${hmacHex(`${state}:${intent}`)}:${intent}`);
      assert.deepEqual(signer.verifyState(cookie, state), { ok: true, intent });
    }
  });

  it("uses a fresh state each time", () => {
    assert.notEqual(signer.createState("login").state, signer.createState("login").state);
  });

  it("cannot have its intent switched", () => {
    const { state, cookie } = signer.createState("login");
    const switched = cookie.replace(/:login$/, ":signup");
    assert.deepEqual(signer.verifyState(switched, state), { ok: false, reason: "bad_signature" });
    assert.deepEqual(signer.verifyState(cookie.replace(/:login$/, ":admin"), state), {
      ok: false,
      reason: "unknown_intent",
    });
  });

  it("rejects edited parts, other secrets and other shapes", () => {
    const { state, cookie } = signer.createState("signup");
    const [, mac] = cookie.split(":") as [string, string, string];
    const otherState = signer.createState("signup").state;
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const foreign = new OAuthCookieSigner("another-secret-0123456789abcdefghijkl").createState("signup");
    const cases: Array<[unknown, string]> = [
      [`${otherState}:${mac}:signup`, "bad_signature"],
      [`${state}:${flip(mac)}:signup`, "bad_signature"],
      [`${state}:${mac.toUpperCase()}:signup`, "bad_signature"],
      [`${state}:${mac.slice(1)}:signup`, "bad_signature"],
      [foreign.cookie, "bad_signature"],
      [`${state}:${hmacHex(state)}`, "malformed"],
      [`${cookie}:extra`, "malformed"],
      [`${state.toUpperCase()}:${mac}:signup`, "malformed"],
      ["", "malformed"],
      [undefined, "malformed"],
      [`${cookie}${"x".repeat(5000)}`, "malformed"],
    ];
    for (const [value, reason] of cases) {
      assert.deepEqual(signer.verifyState(value, state), { ok: false, reason }, String(value).slice(0, 80));
    }
  });

  it("must match the state GitHub returned", () => {
    const { state, cookie } = signer.createState("login");
    const other = signer.createState("login").state;
    for (const returned of [other, undefined, "", state.toUpperCase(), `${state}0`, ["x"]]) {
      assert.deepEqual(signer.verifyState(cookie, returned), { ok: false, reason: "state_mismatch" });
    }
  });
});

describe("OAuth link flow", () => {
  const user = newPublicId("user");

  it("starts with an intent-bound login state and a signed user cookie", () => {
    const flow = signer.createLinkFlow(user.id);
    assert.deepEqual(signer.verifyState(flow.cookie, flow.state), { ok: true, intent: "login" });
    assert.equal(flow.linkCookie, `${user.id}:${hmacHex(user.id)}`);
    assert.deepEqual(signer.verifyLinkCookie(flow.linkCookie), { ok: true, userId: user.id, userUuid: user.uuid });
  });

  it("regression: the old state:HMAC(state):login cookie of the link flow is refused", () => {
    const flow = signer.createLinkFlow(user.id);
    const buggy = `${flow.state}:${hmacHex(flow.state)}:login`;
    assert.deepEqual(signer.verifyState(buggy, flow.state), { ok: false, reason: "bad_signature" });
  });

  it("rejects a link cookie edited to name another user", () => {
    const flow = signer.createLinkFlow(user.id);
    const mac = flow.linkCookie.split(":")[1];
    const victim = newPublicId("user").id;
    assert.deepEqual(signer.verifyLinkCookie(`${victim}:${mac}`), { ok: false, reason: "bad_signature" });
    const team = newPublicId("team").id;
    assert.deepEqual(signer.verifyLinkCookie(`${team}:${hmacHex(team)}`), { ok: false, reason: "malformed" });
    for (const bad of [undefined, "", user.id, `${flow.linkCookie}:x`, "x".repeat(10_000)]) {
      assert.equal(signer.verifyLinkCookie(bad).ok, false);
    }
  });

  it("does not accept a state cookie's HMAC as a link cookie", () => {
    const { state, cookie } = signer.createState("login");
    const stateMac = cookie.split(":")[1];
    assert.equal(signer.verifyLinkCookie(`${user.id}:${stateMac}`).ok, false);
    assert.equal(signer.verifyLinkCookie(`${state}:${stateMac}`).ok, false);
  });

  it("refuses non-user ids and short secrets", () => {
    assert.throws(() => signer.createLinkFlow(newPublicId("team").id), TypeError);
    assert.throws(
      () => new OAuthCookieSigner("short"),
      (e) => e instanceof PlatformError && !e.message.includes("short"),
    );
  });
});
