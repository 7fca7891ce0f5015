import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryLogger, PlatformError } from "@wrenn/kit";
import { resetMessage } from "../mail/mail-test-helpers.js";
import type { Mailer, MailMessage } from "../mail/mailer.js";
import { createMailDispatch } from "./mail-dispatch.js";

describe("mail dispatch", () => {
  test("send returns at once; drain waits for the delivery", async () => {
    let release: () => void = () => undefined;
    const delivered: MailMessage[] = [];
    const slow: Mailer = {
      send: (m) =>
        new Promise<void>((resolve) => {
          release = () => {
            delivered.push(m);
            resolve();
          };
        }),
    };
    const dispatch = createMailDispatch({ mailer: slow, log: new MemoryLogger() });
    dispatch.send(resetMessage);
    assert.deepEqual(delivered, []);
    const drained = dispatch.drain();
    await new Promise((r) => setImmediate(r));
    release();
    await drained;
    assert.deepEqual(delivered, [resetMessage]);
  });

  test("a failed send is logged without the address or the body, and never thrown", async () => {
    const log = new MemoryLogger();
    const broken: Mailer = {
      send: async () => {
        throw new PlatformError("unavailable", "SMTP_UNAVAILABLE", "relay refused the connection");
      },
    };
    const dispatch = createMailDispatch({ mailer: broken, log });
    dispatch.send(resetMessage);
    await dispatch.drain();
    assert.equal(log.entries.length, 1);
    const [entry] = log.entries;
    assert.equal(entry?.level, "warn");
    assert.equal(entry?.fields["domain"], "example.com");
    assert.doesNotMatch(JSON.stringify(entry?.fields), /ada@|deadbeef|Use the link/);
  });

  test("a send that outlives the deadline is abandoned through its signal", async () => {
    const log = new MemoryLogger();
    const hanging: Mailer = {
      send: (_m, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(PlatformError.from(signal.reason)), { once: true });
        }),
    };
    const dispatch = createMailDispatch({ mailer: hanging, log, timeoutMs: 20 });
    // A real hanging send holds a socket open; this fake holds nothing, and
    // the deadline's timer does not keep the process alive on its own.
    const socketStandIn = setInterval(() => undefined, 1000);
    try {
      dispatch.send(resetMessage);
      await dispatch.drain();
    } finally {
      clearInterval(socketStandIn);
    }
    assert.equal(log.entries[0]?.msg, "email not sent");
  });
});
