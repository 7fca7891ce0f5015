/**
 * A real SMTP server on 127.0.0.1 for tests (this file and e2e signup /
 * activation flows): it speaks the protocol over a TCP socket — greeting,
 * EHLO/HELO, AUTH PLAIN (inline or as a continuation), MAIL FROM, RCPT TO,
 * DATA with dot-unstuffing, RSET, NOOP, QUIT — and records each accepted
 * message, parsed (see `mime.ts`). No STARTTLS: clients must use
 * `ignoreTLS` / plain connections against it.
 */
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { type ParsedMime, parseMime } from "./mime.js";

/** One message the server accepted. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM), without angle brackets. */
  readonly from: string;
  /** Envelope recipients (RCPT TO), without angle brackets. */
  readonly to: readonly string[];
  /** Credentials of AUTH PLAIN on this connection, if any. */
  readonly auth: { readonly user: string; readonly pass: string } | undefined;
  /** The message as transmitted, after dot-unstuffing, with CRLF line ends. */
  readonly raw: string;
  readonly parsed: ParsedMime;
}

/** Options of {@link startFakeSmtpServer}. */
export interface FakeSmtpServerOptions {
  /** When set, AUTH PLAIN must present exactly these and MAIL FROM requires authentication. */
  readonly credentials?: { readonly user: string; readonly pass: string };
}

/** A running fake server; dispose to close it and every connection. */
export interface FakeSmtpServer extends AsyncDisposable {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Accepted messages, in order. */
  readonly messages: readonly ReceivedMail[];
  /** Every command line received (AUTH payloads replaced by `***`), for protocol assertions. */
  readonly commands: readonly string[];
  /** The next message not yet returned by this method; rejects after `timeoutMs` (default 5000). */
  nextMessage(timeoutMs?: number): Promise<ReceivedMail>;
}

const MAX_LINE = 64 * 1024;
const MAX_MESSAGE = 10 * 1024 * 1024;

/** Starts the fake server on an ephemeral loopback port. */
export async function startFakeSmtpServer(options: FakeSmtpServerOptions = {}): Promise<FakeSmtpServer> {
  const messages: ReceivedMail[] = [];
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  let handedOut = 0;

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serveConnection(socket, options, commands, (mail) => {
      messages.push(mail);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake SMTP server has no TCP address");

  return {
    host: "127.0.0.1",
    port: address.port,
    messages,
    commands,
    async nextMessage(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length <= handedOut) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message arrived within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const mail = messages[handedOut++];
      if (!mail) throw new Error("unreachable: message index out of range");
      return mail;
    },
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

function serveConnection(
  socket: Socket,
  options: FakeSmtpServerOptions,
  commands: string[],
  deliver: (mail: ReceivedMail) => void,
): void {
  let buffer = "";
  let auth: ReceivedMail["auth"];
  let awaitingAuthPayload = false;
  let from: string | undefined;
  let to: string[] = [];
  let data: string[] | undefined;
  let dataBytes = 0;
  let closing = false;

  const reset = () => {
    from = undefined;
    to = [];
    data = undefined;
    dataBytes = 0;
  };

  const checkPlain = (payload: string): string => {
    awaitingAuthPayload = false;
    const [, user = "", pass = ""] = Buffer.from(payload, "base64").toString("utf8").split("\0");
    const expected = options.credentials;
    if (expected && (user !== expected.user || pass !== expected.pass)) return "535 5.7.8 Authentication failed";
    auth = { user, pass };
    return "235 2.7.0 Authentication successful";
  };

  /** One line inside DATA; a reply only at the terminating dot. */
  const onDataLine = (lines: string[], line: string): string | undefined => {
    if (line === ".") {
      const raw = lines.map((l) => `${l}\r\n`).join("");
      deliver({ from: from ?? "", to, auth, raw, parsed: parseMime(raw) });
      reset();
      return "250 2.0.0 OK queued";
    }
    // Dot-unstuffing (RFC 5321 §4.5.2): a leading dot was doubled by the client.
    const unstuffed = line.startsWith(".") ? line.slice(1) : line;
    dataBytes += unstuffed.length + 2;
    if (dataBytes > MAX_MESSAGE) {
      closing = true;
      return "552 5.3.4 Message too big";
    }
    lines.push(unstuffed);
    return undefined;
  };

  const onCommand = (line: string): string => {
    const verb = line.split(" ", 1)[0]?.toUpperCase() ?? "";
    commands.push(verb === "AUTH" ? `${line.split(" ").slice(0, 2).join(" ")} ***` : line);
    const arg = line.slice(verb.length).trim();
    switch (verb) {
      case "EHLO":
        return `250-fake-smtp greets ${arg}\r\n250-AUTH PLAIN\r\n250 SIZE ${MAX_MESSAGE}`;
      case "HELO":
        return "250 fake-smtp";
      case "AUTH": {
        const [mechanism, initial] = arg.split(" ");
        if (mechanism?.toUpperCase() !== "PLAIN") return "504 5.5.4 Unrecognized authentication type";
        if (initial) return checkPlain(initial);
        awaitingAuthPayload = true;
        return "334 ";
      }
      case "MAIL": {
        if (options.credentials && !auth) return "530 5.7.0 Authentication required";
        const m = /^FROM:\s*<([^>]*)>/i.exec(arg);
        if (!m) return "501 5.5.4 Syntax: MAIL FROM:<address>";
        reset();
        from = m[1];
        return "250 2.1.0 Sender OK";
      }
      case "RCPT": {
        if (from === undefined) return "503 5.5.1 MAIL first";
        const m = /^TO:\s*<([^>]+)>/i.exec(arg);
        if (!m?.[1]) return "501 5.5.4 Syntax: RCPT TO:<address>";
        to.push(m[1]);
        return "250 2.1.5 Recipient OK";
      }
      case "DATA":
        if (to.length === 0) return "503 5.5.1 RCPT first";
        data = [];
        return "354 End data with <CR><LF>.<CR><LF>";
      case "RSET":
        reset();
        return "250 2.0.0 OK";
      case "NOOP":
        return "250 2.0.0 OK";
      case "QUIT":
        closing = true;
        return "221 2.0.0 Bye";
      default:
        return "502 5.5.2 Command not recognized";
    }
  };

  const onLine = (line: string): void => {
    let response: string | undefined;
    if (data) response = onDataLine(data, line);
    else if (awaitingAuthPayload) {
      commands.push("***");
      response = checkPlain(line);
    } else response = onCommand(line);
    if (response !== undefined) socket.write(`${response}\r\n`);
    if (closing) socket.end();
  };

  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl !== -1 && !closing; nl = buffer.indexOf("\n")) {
      onLine(buffer.slice(0, nl).replace(/\r$/, ""));
      buffer = buffer.slice(nl + 1);
    }
    if (buffer.length > MAX_LINE && !closing) {
      closing = true;
      socket.end("500 5.5.2 Line too long\r\n");
    }
  });
  socket.write("220 fake-smtp ESMTP ready\r\n");
}
