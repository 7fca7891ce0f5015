import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { freePort, PlatformError } from "@wrenn/kit";
import { newPublicId } from "../ids/public-id.js";
import { InternalCa } from "../pki/internal-ca.js";
import type { MailMessage } from "./mailer.js";
import { SmtpMailer } from "./smtp-mailer.js";
import { type FakeSmtpServer, type ReceivedMail, startFakeSmtpServer } from "./testing/fake-smtp-server.js";
import { findPart, headerOf } from "./testing/mime.js";

const FROM = "noreply@wrenn.test";
const CREDENTIALS = { user: "mailer", pass: "s3cret pass" };

function mailerFor(server: { port: number }, extra: Partial<ConstructorParameters<typeof SmtpMailer>[0]> = {}) {
  return new SmtpMailer({
    host: "127.0.0.1",
    port: server.port,
    from: FROM,
    ignoreTLS: true,
    timeoutMs: 5000,
    ...extra,
  });
}

const activation: MailMessage = {
  to: "ada@example.com",
  subject: "Activate your Wrenn account",
  recipientName: "Ada Lovelace",
  message: "Welcome to Wrenn.\n\nConfirm your email address to start creating capsules.",
  button: { text: "Activate account", url: "https://app.wrenn.test/activate?token=abc123" },
};

function textAndHtml(mail: ReceivedMail): { text: string; html: string } {
  assert.equal(mail.parsed.contentType, "multipart/alternative");
  const text = findPart(mail.parsed, "text/plain")?.body;
  const html = findPart(mail.parsed, "text/html")?.body;
  assert.ok(text !== undefined && html !== undefined, "both alternatives present");
  return { text, html };
}

function reasonOf(err: unknown): string | undefined {
  return err instanceof PlatformError ? `${err.code}/${err.reason}` : undefined;
}

describe("SmtpMailer against a real SMTP conversation", { timeout: 30_000 }, () => {
  it("authenticates with PLAIN and delivers a multipart/alternative message", async () => {
    await using server = await startFakeSmtpServer({ credentials: CREDENTIALS });
    const mailer = mailerFor(server, { username: CREDENTIALS.user, password: CREDENTIALS.pass });
    await mailer.send(activation, AbortSignal.timeout(10_000));

    const mail = await server.nextMessage();
    assert.deepEqual(mail.auth, CREDENTIALS);
    assert.equal(mail.from, FROM);
    assert.deepEqual(mail.to, ["ada@example.com"]);
    // QUIT follows once the client has its 250 (send() may resolve first), so it is not asserted.
    assert.deepEqual(
      server.commands.slice(0, 5).map((c) => c.split(/[ :]/)[0]),
      ["EHLO", "AUTH", "MAIL", "RCPT", "DATA"],
    );
    assert.ok(server.commands.includes("AUTH PLAIN ***"));

    assert.match(headerOf(mail.parsed, "from") ?? "", /^"?Wrenn"? <noreply@wrenn\.test>$/);
    assert.equal(headerOf(mail.parsed, "to"), "Ada Lovelace <ada@example.com>");
    assert.equal(headerOf(mail.parsed, "subject"), "Activate your Wrenn account");

    const { text, html } = textAndHtml(mail);
    assert.match(text, /^Hello Ada Lovelace,\n\nWelcome to Wrenn\.\n\nConfirm your email address/);
    assert.match(text, /Activate account: https:\/\/app\.wrenn\.test\/activate\?token=abc123/);
    assert.match(html, /<a href="https:\/\/app\.wrenn\.test\/activate\?token=abc123"[^>]*>Activate account<\/a>/);
    assert.match(html, /Hello Ada Lovelace,/);
  });

  it("skips AUTH when no credentials are configured", async () => {
    await using server = await startFakeSmtpServer();
    await mailerFor(server).send({ ...activation, button: undefined }, AbortSignal.timeout(10_000));
    const mail = await server.nextMessage();
    assert.equal(mail.auth, undefined);
    assert.ok(!server.commands.some((c) => c.startsWith("AUTH")));
    assert.doesNotMatch(textAndHtml(mail).html, /<a /);
  });

  it("strips header injection from subject and name and escapes the HTML", async () => {
    await using server = await startFakeSmtpServer();
    await mailerFor(server).send(
      {
        to: "victim-target@example.com",
        subject: "Hello\r\nBcc: spy@evil.test\r\n\r\nInjected body",
        recipientName: 'Eve\r\nBcc: spy@evil.test\n"<img src=x onerror=alert(1)>',
        message: "<script>alert(1)</script> & friends",
      },
      AbortSignal.timeout(10_000),
    );
    const mail = await server.nextMessage();
    assert.deepEqual(mail.to, ["victim-target@example.com"]);
    assert.equal(mail.parsed.headers.has("bcc"), false);
    assert.equal(headerOf(mail.parsed, "subject"), "Hello Bcc: spy@evil.test Injected body");
    const toHeader = headerOf(mail.parsed, "to") ?? "";
    assert.ok(!/[\r\n]/.test(toHeader));
    assert.match(toHeader, /<victim-target@example\.com>$/);
    const { text, html } = textAndHtml(mail);
    assert.ok(!html.includes("<script>") && !html.includes("<img"));
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62; &#38; friends/);
    assert.match(text, /<script>alert\(1\)<\/script> & friends/);
    assert.match(text, /^Hello Eve Bcc: spy@evil\.test "<img/);
  });

  it("survives dot-stuffing and non-ASCII text", async () => {
    await using server = await startFakeSmtpServer();
    const message = "Line one\n.\n.leading dot\n..two dots\n\nZoë — 日本語 ✓";
    await mailerFor(server).send(
      { ...activation, subject: "Grüße ✓", recipientName: "Zoë", message },
      AbortSignal.timeout(10_000),
    );
    const mail = await server.nextMessage();
    assert.equal(headerOf(mail.parsed, "subject"), "Grüße ✓");
    const { text, html } = textAndHtml(mail);
    assert.match(text, /Line one\n\.\n\.leading dot\n\.\.two dots\n\nZoë — 日本語 ✓/);
    assert.match(html, /Zoë — 日本語 ✓/);
  });

  it("reports refused credentials as MAIL_SEND_FAILED without delivering", async () => {
    await using server = await startFakeSmtpServer({ credentials: CREDENTIALS });
    const mailer = mailerFor(server, { username: CREDENTIALS.user, password: "wrong" });
    await assert.rejects(
      mailer.send(activation, AbortSignal.timeout(10_000)),
      (e) => reasonOf(e) === "unavailable/MAIL_SEND_FAILED",
    );
    assert.equal(server.messages.length, 0);
  });

  it("reports an unreachable relay as MAIL_SEND_FAILED", async () => {
    const closed = await freePort();
    await assert.rejects(
      mailerFor({ port: closed }).send(activation, AbortSignal.timeout(10_000)),
      (e) => reasonOf(e) === "unavailable/MAIL_SEND_FAILED",
    );
  });

  it("rejects a bad button URL before connecting", async () => {
    await using server = await startFakeSmtpServer();
    const bad = { ...activation, button: { text: "Click", url: "javascript:alert(1)" } };
    await assert.rejects(
      mailerFor(server).send(bad, AbortSignal.timeout(10_000)),
      (e) => reasonOf(e) === "invalid_argument/MAIL_BUTTON_URL_INVALID",
    );
    assert.deepEqual(server.commands, []);
  });

  it("cancels when the signal aborts, even while the server stalls", async () => {
    await using server = await startFakeSmtpServer();
    await assert.rejects(
      mailerFor(server).send(activation, AbortSignal.abort()),
      (e) => reasonOf(e) === "canceled/CANCELED",
    );
    assert.deepEqual(server.commands, []);

    // A server that accepts but never greets: only the signal can end the wait.
    const silent = createTcpServer((socket) => socket.on("error", () => {}));
    const held = new Set<Socket>();
    silent.on("connection", (s) => held.add(s));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      const controller = new AbortController();
      const sending = mailerFor(silent.address() as AddressInfo).send(activation, controller.signal);
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(sending, (e) => reasonOf(e) === "canceled/CANCELED");
    } finally {
      for (const s of held) s.destroy();
      silent.close();
      await once(silent, "close");
    }
  });

  it("uses implicit TLS when asked (port 465 behaviour) and verifies the relay certificate", async () => {
    await using server = await startFakeSmtpServer();
    const ca = await InternalCa.create();
    const cert = await ca.issueHostCert({ hostId: newPublicId("host").id, address: "127.0.0.1" });
    await using relay = await startTlsTerminator(server, cert);
    const mailer = mailerFor(relay, { implicitTls: true, ignoreTLS: false, tls: { ca: ca.certPem } });
    await mailer.send(activation, AbortSignal.timeout(10_000));
    assert.equal(headerOf((await server.nextMessage()).parsed, "subject"), activation.subject);

    const untrusting = mailerFor(relay, { implicitTls: true, ignoreTLS: false });
    await assert.rejects(
      untrusting.send(activation, AbortSignal.timeout(10_000)),
      (e) => reasonOf(e) === "unavailable/MAIL_SEND_FAILED",
    );
  });

  it("refuses an invalid configuration up front", () => {
    assert.throws(() => new SmtpMailer({ host: "127.0.0.1", from: "not an address" }), {
      reason: "SMTP_CONFIG_INVALID",
    });
    assert.throws(() => new SmtpMailer({ host: "127.0.0.1", from: FROM, port: 0 }), { reason: "SMTP_CONFIG_INVALID" });
    assert.throws(() => new SmtpMailer({ host: "127.0.0.1", from: FROM, username: "u" }), {
      reason: "SMTP_CONFIG_INVALID",
    });
  });
});

/** A TLS listener on loopback that forwards cleartext to the fake server: an implicit-TLS relay. */
async function startTlsTerminator(target: FakeSmtpServer, cert: { certPem: string; keyPem: string }) {
  const sockets = new Set<Socket>();
  const tls = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (clear) => {
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    clear.pipe(upstream).pipe(clear);
    clear.on("error", () => upstream.destroy());
    upstream.on("error", () => clear.destroy());
  });
  tls.on("connection", (s: Socket) => sockets.add(s));
  tls.on("tlsClientError", () => {});
  tls.listen(0, "127.0.0.1");
  await once(tls, "listening");
  return {
    port: (tls.address() as AddressInfo).port,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      tls.close();
      await once(tls, "close");
    },
  };
}
