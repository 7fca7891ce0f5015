// The fake server driven byte by byte over a raw socket, so its protocol
// handling is checked independently of any SMTP client library.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { startFakeSmtpServer } from "./fake-smtp-server.js";
import { decodeEncodedWords, findPart, headerOf, parseMime } from "./mime.js";

/** A line-oriented SMTP client: send a line, read one complete (possibly multi-line) reply. */
async function dial(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  let buffer = "";
  const waiting: Array<() => void> = [];
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  async function reply(): Promise<string> {
    // A reply ends with a line whose 4th character is a space ("250 ok"), not a dash ("250-more").
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }
  async function send(line: string): Promise<string> {
    socket.write(`${line}\r\n`);
    return reply();
  }
  await once(socket, "connect");
  return {
    reply,
    send,
    write: (text: string) => socket.write(text),
    [Symbol.dispose]: () => socket.destroy(),
  };
}

describe("fake SMTP server", { timeout: 15_000 }, () => {
  it("speaks EHLO, AUTH PLAIN (continuation), MAIL, RCPT, DATA with dot-unstuffing, QUIT", async () => {
    await using server = await startFakeSmtpServer({ credentials: { user: "u", pass: "p" } });
    using client = await dial(server.port);
    assert.match(await client.reply(), /^220 /);
    const ehlo = await client.send("EHLO test.local");
    assert.match(ehlo, /^250-[^\r\n]*\r\n250-AUTH PLAIN\r\n250 SIZE \d+$/);
    assert.match(await client.send("MAIL FROM:<a@x.test>"), /^530 /);
    assert.match(await client.send("AUTH PLAIN"), /^334/);
    assert.match(await client.send(Buffer.from("\0u\0wrong").toString("base64")), /^535 /);
    assert.match(await client.send(`AUTH PLAIN ${Buffer.from("\0u\0p").toString("base64")}`), /^235 /);
    assert.match(await client.send("RCPT TO:<b@x.test>"), /^503 /);
    assert.match(await client.send("MAIL FROM:<a@x.test> SIZE=100"), /^250 /);
    assert.match(await client.send("DATA"), /^503 /);
    assert.match(await client.send("RCPT TO:<b@x.test>"), /^250 /);
    assert.match(await client.send("RCPT TO:<c@x.test>"), /^250 /);
    assert.match(await client.send("DATA"), /^354 /);
    client.write("Subject: =?UTF-8?B?SGVsbG8g4pyT?=\r\n\r\nline\r\n..\r\n..x\r\n...\r\n");
    assert.match(await client.send("."), /^250 /);
    assert.match(await client.send("NOOP"), /^250 /);
    assert.match(await client.send("VRFY b"), /^502 /);
    assert.match(await client.send("QUIT"), /^221 /);

    const mail = await server.nextMessage();
    assert.equal(mail.from, "a@x.test");
    assert.deepEqual(mail.to, ["b@x.test", "c@x.test"]);
    assert.deepEqual(mail.auth, { user: "u", pass: "p" });
    assert.equal(mail.raw, "Subject: =?UTF-8?B?SGVsbG8g4pyT?=\r\n\r\nline\r\n.\r\n.x\r\n..\r\n");
    assert.equal(headerOf(mail.parsed, "subject"), "Hello ✓");
    assert.equal(mail.parsed.body, "line\n.\n.x\n..\n");
    assert.ok(
      !server.commands.some((c) => c.includes(Buffer.from("\0u\0p").toString("base64"))),
      "credentials are masked",
    );
  });

  it("times out nextMessage when nothing arrives", async () => {
    await using server = await startFakeSmtpServer();
    await assert.rejects(server.nextMessage(50), /no message arrived within 50 ms/);
  });
});

describe("mime reader", () => {
  it("reads multipart trees with quoted-printable and base64 parts", () => {
    const raw = [
      "Content-Type: multipart/alternative;",
      ' boundary="--b1"',
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?Q?_du?=",
      "",
      "preamble",
      "----b1",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "Zo=C3=AB and a soft=",
      " break",
      "----b1",
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("<p>Zoë</p>").toString("base64"),
      "----b1--",
      "",
    ].join("\r\n");
    const parsed = parseMime(raw);
    assert.equal(parsed.contentType, "multipart/alternative");
    assert.equal(headerOf(parsed, "subject"), "Grüße du");
    assert.equal(findPart(parsed, "text/plain")?.body, "Zoë and a soft break");
    assert.equal(findPart(parsed, "text/html")?.body, "<p>Zoë</p>");
    assert.equal(decodeEncodedWords("plain"), "plain");
  });
});
