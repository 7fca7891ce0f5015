import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { resetMessage } from "./mail-test-helpers.js";
import { NoopMailer } from "./noop-mailer.js";

describe("NoopMailer", () => {
  it("logs recipient and subject but never the body or links", async () => {
    const logger = new MemoryLogger();
    await new NoopMailer(logger).send(resetMessage, AbortSignal.timeout(5000));
    assert.deepEqual(logger.entries, [
      {
        level: "info",
        msg: "email not sent: SMTP is not configured",
        fields: { to: "ada@example.com", subject: "Reset your Wrenn password" },
      },
    ]);
    assert.ok(!JSON.stringify(logger.entries).includes("deadbeef"));
  });

  it("validates like the real mailers", async () => {
    const mailer = new NoopMailer(new MemoryLogger());
    await assert.rejects(
      mailer.send({ ...resetMessage, button: { text: "x", url: "javascript:x" } }, AbortSignal.timeout(5000)),
      {
        reason: "MAIL_BUTTON_URL_INVALID",
      },
    );
    await assert.rejects(mailer.send(resetMessage, AbortSignal.abort()), { code: "canceled" });
  });
});
