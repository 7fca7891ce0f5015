import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ManualClock, MemoryLogger, PlatformError } from "@wrenn/kit";
import { InternalCa, type IssuedCertificate } from "./internal-ca.js";
import { RenewingCertificate } from "./renewing-certificate.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2031, 5, 1);

describe("RenewingCertificate", () => {
  let ca: InternalCa;
  before(async () => {
    ca = await InternalCa.create({ now: T0 - HOUR });
  });

  /** Issues real client certificates at the manual clock's time, optionally failing some calls. */
  function issuer(clock: ManualClock, failCalls: ReadonlySet<number> = new Set()) {
    const calls: number[] = [];
    const issue = async (): Promise<IssuedCertificate> => {
      calls.push(clock.now());
      if (failCalls.has(calls.length)) throw new PlatformError("unavailable", "TEST_ISSUE_FAILED", "issuer down");
      return ca.issueClientCert({ now: clock.now() });
    };
    return { issue, calls };
  }

  it("renews the 24 h client certificate at half-life, again and again", async () => {
    const clock = new ManualClock(T0);
    const { issue, calls } = issuer(clock);
    const renewed: IssuedCertificate[] = [];
    using cert = await RenewingCertificate.start({ issue, clock, onRenewed: (c) => renewed.push(c) });
    const first = cert.current;
    assert.equal(first.notAfter.getTime(), T0 + 24 * HOUR);

    await clock.advance(12 * HOUR - 1);
    await cert.whenIdle();
    assert.equal(cert.current, first, "not renewed before half-life");

    await clock.advance(1);
    await cert.whenIdle();
    assert.notEqual(cert.current.fingerprint, first.fingerprint);
    assert.equal(cert.current.notAfter.getTime(), T0 + 36 * HOUR);
    assert.deepEqual(renewed, [cert.current]);

    await clock.advance(12 * HOUR);
    await cert.whenIdle();
    assert.equal(cert.current.notAfter.getTime(), T0 + 48 * HOUR);
    assert.deepEqual(calls, [T0, T0 + 12 * HOUR, T0 + 24 * HOUR]);
    assert.equal(renewed.length, 2);
  });

  it("keeps the current certificate and retries after a failed renewal", async () => {
    const clock = new ManualClock(T0);
    const { issue, calls } = issuer(clock, new Set([2]));
    const logger = new MemoryLogger();
    using cert = await RenewingCertificate.start({ issue, clock, logger, retryDelayMs: 60_000 });
    const first = cert.current;

    await clock.advance(12 * HOUR);
    await cert.whenIdle();
    assert.equal(cert.current, first);
    assert.equal(logger.entries.length, 1);
    assert.equal(logger.entries[0]?.level, "warn");
    assert.equal(logger.entries[0]?.fields["reason"], "TEST_ISSUE_FAILED");

    await clock.advance(60_000);
    await cert.whenIdle();
    assert.notEqual(cert.current, first);
    assert.deepEqual(calls, [T0, T0 + 12 * HOUR, T0 + 12 * HOUR + 60_000]);
  });

  it("survives a throwing listener", async () => {
    const clock = new ManualClock(T0);
    const { issue } = issuer(clock);
    const logger = new MemoryLogger();
    const onRenewed = () => {
      throw new Error("listener bug");
    };
    using cert = await RenewingCertificate.start({ issue, clock, logger, onRenewed });
    await clock.advance(12 * HOUR);
    await cert.whenIdle();
    await clock.advance(12 * HOUR);
    await cert.whenIdle();
    assert.equal(cert.current.notAfter.getTime(), T0 + 48 * HOUR);
    assert.deepEqual(
      logger.entries.map((e) => e.level),
      ["error", "error"],
    );
  });

  it("stops renewing once disposed", async () => {
    const clock = new ManualClock(T0);
    const { issue, calls } = issuer(clock);
    {
      using cert = await RenewingCertificate.start({ issue, clock });
      assert.equal(clock.pending, 1);
      assert.equal(clock.nextDue, T0 + 12 * HOUR);
      assert.ok(cert.current);
    }
    assert.equal(clock.pending, 0);
    await clock.advance(48 * HOUR);
    assert.equal(calls.length, 1);
  });

  it("fails to start when the first certificate cannot be issued", async () => {
    const clock = new ManualClock(T0);
    const { issue } = issuer(clock, new Set([1]));
    await assert.rejects(RenewingCertificate.start({ issue, clock }), { reason: "TEST_ISSUE_FAILED" });
    assert.equal(clock.pending, 0);
  });
});
