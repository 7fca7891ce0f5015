import assert from "node:assert/strict";
import { appendFile, chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { resetMessage } from "./mail-test-helpers.js";
import { formatOutboxEntry, OUTBOX_FILE_NAME, OutboxMailer, readOutbox } from "./outbox-mailer.js";

describe("OutboxMailer", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wrenn-outbox-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("appends one 0600 JSON line per message that readOutbox returns", async () => {
    const path = join(root, "wrenn-dir", OUTBOX_FILE_NAME);
    const mailer = new OutboxMailer({ path, now: () => Date.UTC(2030, 0, 2, 3, 4, 5) });
    await mailer.send(resetMessage, AbortSignal.timeout(5000));
    await mailer.send({ ...resetMessage, to: "bob@example.com", button: undefined }, AbortSignal.timeout(5000));

    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(root, "wrenn-dir"))).mode & 0o777, 0o700);
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 2);

    const all = await readOutbox(path);
    assert.deepEqual(
      all.map((e) => [e.at, e.to, e.subject, e.buttonUrl]),
      [
        [
          "2030-01-02T03:04:05.000Z",
          "ada@example.com",
          "Reset your Wrenn password",
          "https://app.wrenn.test/reset?token=deadbeef",
        ],
        ["2030-01-02T03:04:05.000Z", "bob@example.com", "Reset your Wrenn password", undefined],
      ],
    );
    assert.match(all[0]?.text ?? "", /Reset password: https:\/\/app\.wrenn\.test\/reset\?token=deadbeef/);
    assert.match(all[0]?.html ?? "", /<a href="https:\/\/app\.wrenn\.test\/reset\?token=deadbeef"/);
    assert.deepEqual(
      (await readOutbox(path, { to: "BOB@example.com" })).map((e) => e.to),
      ["bob@example.com"],
    );
    assert.deepEqual(
      (await readOutbox(path, { limit: 1 })).map((e) => e.to),
      ["bob@example.com"],
    );
    assert.deepEqual(await readOutbox(path, { limit: 0 }), []);

    const printed = formatOutboxEntry(all[0] ?? assert.fail("no entry"));
    assert.match(
      printed,
      /^Date: {4}2030-01-02T03:04:05\.000Z\nTo: {6}ada@example\.com\nSubject: Reset your Wrenn password\n\nHello Ada,/,
    );
  });

  it("keeps lines whole under concurrent sends", async () => {
    const path = join(root, "concurrent.jsonl");
    const mailer = new OutboxMailer({ path });
    const big = "x".repeat(200_000);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        mailer.send({ ...resetMessage, subject: `n${i}`, message: big }, AbortSignal.timeout(10_000)),
      ),
    );
    const entries = await readOutbox(path, { limit: 100 });
    assert.deepEqual(
      entries.map((e) => e.subject),
      Array.from({ length: 20 }, (_, i) => `n${i}`),
    );
  });

  it("narrows an existing wider file to 0600", async () => {
    const path = join(root, "wide.jsonl");
    await writeFile(path, "");
    await chmod(path, 0o644);
    await new OutboxMailer({ path }).send(resetMessage, AbortSignal.timeout(5000));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it("reads a missing outbox as empty and skips a torn last line", async () => {
    assert.deepEqual(await readOutbox(join(root, "absent.jsonl")), []);
    const path = join(root, "torn.jsonl");
    await new OutboxMailer({ path }).send(resetMessage, AbortSignal.timeout(5000));
    await appendFile(path, '{"at":"2030-01-01T00:00:00Z","to":"cut@exa');
    await appendFile(path, '\n{"unrelated":true}\n');
    assert.deepEqual(
      (await readOutbox(path)).map((e) => e.to),
      ["ada@example.com"],
    );
  });

  it("rejects invalid messages, aborted signals and unwritable paths with typed errors", async () => {
    const mailer = new OutboxMailer({ path: join(root, "errors.jsonl") });
    await assert.rejects(mailer.send({ ...resetMessage, to: "nobody" }, AbortSignal.timeout(5000)), {
      reason: "MAIL_RECIPIENT_INVALID",
    });
    await assert.rejects(mailer.send(resetMessage, AbortSignal.abort()), { code: "canceled" });
    const blocked = join(root, "a-file");
    await writeFile(blocked, "");
    const unwritable = new OutboxMailer({ path: join(blocked, "outbox.jsonl") });
    await assert.rejects(
      unwritable.send(resetMessage, AbortSignal.timeout(5000)),
      (e) => e instanceof PlatformError && e.reason === "MAIL_OUTBOX_WRITE_FAILED",
    );
    // A failed write does not wedge the queue for the next one.
    await assert.rejects(unwritable.send(resetMessage, AbortSignal.timeout(5000)), {
      reason: "MAIL_OUTBOX_WRITE_FAILED",
    });
    await assert.rejects(readFile(join(root, "errors.jsonl")), { code: "ENOENT" });
  });
});
