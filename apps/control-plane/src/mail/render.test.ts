import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import type { MailMessage } from "./mailer.js";
import { DEFAULT_CLOSING, escapeHtml, isMailAddress, renderMail, toHeaderValue } from "./render.js";

const base: MailMessage = { to: "ada@example.com", subject: "Subject", recipientName: "Ada", message: "Body." };

function reasonOf(err: unknown): string | undefined {
  return err instanceof PlatformError ? err.reason : undefined;
}

describe("renderMail", () => {
  it("lays out greeting, paragraphs, button, closing and footer in text", () => {
    const mail = renderMail({
      ...base,
      message: "First paragraph\nwith a line break.\n\n\nSecond paragraph.",
      button: { text: "Go", url: "https://app.wrenn.test/x?a=1&b=2" },
    });
    assert.equal(
      mail.text,
      [
        "Hello Ada,",
        "First paragraph\nwith a line break.",
        "Second paragraph.",
        "Go: https://app.wrenn.test/x?a=1&b=2",
        ...DEFAULT_CLOSING.split("\n\n"),
        "--",
        "You are receiving this email because of an account on Wrenn.\n",
      ].join("\n\n"),
    );
    assert.equal(mail.buttonUrl, "https://app.wrenn.test/x?a=1&b=2");
    assert.match(mail.html, /<p [^>]*>First paragraph<br>with a line break\.<\/p>/);
    assert.match(mail.html, /<a href="https:\/\/app\.wrenn\.test\/x\?a=1&#38;b=2"/);
  });

  it("greets without a name and honours a custom closing", () => {
    const mail = renderMail({ ...base, recipientName: "  ", closing: "Bye,\nWrenn" });
    assert.match(mail.text, /^Hello,\n\nBody\.\n\nBye,\nWrenn\n\n--/);
    assert.match(mail.html, /Bye,<br>Wrenn/);
  });

  it("strips control characters from header values", () => {
    assert.equal(toHeaderValue("a\r\nBcc: x@y.z\r\n\r\nbody"), "a Bcc: x@y.z body");
    assert.equal(toHeaderValue("\ttab\u0000nul\u007fdel\u2028ls "), "tab nul del ls");
    const mail = renderMail({ ...base, subject: "Hi\r\nX-Evil: 1", recipientName: "Eve\nBcc: x@y.z" });
    assert.equal(mail.subject, "Hi X-Evil: 1");
    assert.equal(mail.recipientName, "Eve Bcc: x@y.z");
    assert.match(mail.text, /^Hello Eve Bcc: x@y\.z,/);
  });

  it("escapes everything that reaches the HTML", () => {
    const mail = renderMail({
      ...base,
      subject: "<b>s</b>",
      recipientName: '"><img src=x onerror=alert(1)>',
      message: "<script>alert('x')</script>",
      button: { text: "<i>t</i>", url: 'https://a.test/"onmouseover="x' },
    });
    assert.ok(!/<(script|img|b>|i>)/.test(mail.html), mail.html);
    assert.match(mail.html, /&#60;script&#62;alert\(&#39;x&#39;\)&#60;\/script&#62;/);
    assert.match(mail.html, /href="https:\/\/a\.test\/%22onmouseover=%22x"/);
    assert.equal(escapeHtml(`<>&"'`), "&#60;&#62;&#38;&#34;&#39;");
  });

  it("accepts only absolute http(s) button links", () => {
    for (const url of [
      "javascript:alert(1)",
      "data:text/html,x",
      "/relative",
      "ftp://x.test/",
      "mailto:a@b.c",
      "not a url",
      " ",
    ]) {
      assert.throws(
        () => renderMail({ ...base, button: { text: "x", url } }),
        (e) => reasonOf(e) === "MAIL_BUTTON_URL_INVALID",
        url,
      );
    }
    assert.equal(
      renderMail({ ...base, button: { text: "x", url: "http://localhost:8080/a" } }).buttonUrl,
      "http://localhost:8080/a",
    );
  });

  it("requires one valid recipient and a subject", () => {
    for (const to of [
      "",
      "ada",
      "ada@",
      "@x.y",
      "a@b",
      "a b@c.d",
      "a@b.c, e@f.g",
      "Ada <a@b.c>",
      "a@b.c\r\nBcc: e@f.g",
      `${"a".repeat(250)}@b.cd`,
    ]) {
      assert.equal(isMailAddress(to), false, to);
      assert.throws(
        () => renderMail({ ...base, to }),
        (e) => reasonOf(e) === "MAIL_RECIPIENT_INVALID",
        to,
      );
    }
    assert.equal(renderMail({ ...base, to: " ada+tag@sub.example.com " }).to, "ada+tag@sub.example.com");
    assert.throws(
      () => renderMail({ ...base, subject: "\r\n " }),
      (e) => reasonOf(e) === "MAIL_SUBJECT_EMPTY",
    );
  });
});
