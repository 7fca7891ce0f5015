import { spawn } from "node:child_process";
import { connect } from "node:net";

/**
 * Plain sockets on both sides of every transfer, so envd and the TCP floor
 * are measured with the same client cost (node:http's parser would halve the
 * client's throughput and hide envd's).
 */

const CHUNK_BYTES = 1024 * 1024;

/** Writes `total` bytes of `chunk` to a socket with back-pressure. */
function pump(socket: import("node:net").Socket, chunk: Buffer, total: number, done: () => void): void {
  let sent = 0;
  const next = () => {
    while (sent < total) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once("drain", next);
    }
    done();
  };
  next();
}

/** Upload via raw HTTP/1.1 over a socket: headers, then `total` bytes; resolves with MiB/s once envd answers 200. */
export function rawHttpUpload(url: string, chunk: Buffer, total: number): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = connect(Number(u.port), u.hostname);
    let response = "";
    socket.on("error", reject);
    socket.on("data", (d: Buffer) => {
      response += d.toString("latin1");
      if (!response.includes("\r\n\r\n")) return;
      socket.destroy();
      if (!response.startsWith("HTTP/1.1 200"))
        return reject(new Error(`upload answered ${response.split("\r\n")[0]}`));
      resolve(total / 1048576 / ((performance.now() - start) / 1000));
    });
    socket.write(
      `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`,
    );
    pump(socket, chunk, total, () => {});
  });
}

/** Download via raw HTTP/1.1; counts body bytes after the headers; resolves with MiB/s. */
export function rawHttpDownload(url: string, total: number): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = connect(Number(u.port), u.hostname);
    let head = "";
    let body = -1;
    socket.on("error", reject);
    socket.on("data", (d: Buffer) => {
      if (body < 0) {
        head += d.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!head.startsWith("HTTP/1.1 200")) return reject(new Error(`download answered ${head.split("\r\n")[0]}`));
        body = Buffer.byteLength(head, "latin1") - (end + 4);
      } else body += d.length;
      if (body >= total) {
        socket.destroy();
        resolve(total / 1048576 / ((performance.now() - start) / 1000));
      }
    });
    socket.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`,
    );
  });
}

/**
 * The floor: the same socket client against a bare Node TCP server in its own
 * process that discards (upload) or sends (download) `total` bytes.
 */
export async function loopbackTcpFloor(chunk: Buffer, total: number): Promise<{ upload: number; download: number }> {
  const server = `
    const net = require("node:net");
    const chunk = Buffer.alloc(${CHUNK_BYTES}, 1);
    const srv = net.createServer((s) => {
      s.once("data", (first) => {
        if (first[0] === 68) { // 'D': send ${total} bytes
          let sent = 0;
          const next = () => { while (sent < ${total}) { sent += chunk.length; if (!s.write(chunk)) return void s.once("drain", next); } s.end(); };
          next();
        } else { let got = first.length; s.on("data", (d) => { got += d.length; if (got >= ${total} + 1) s.end("ok"); }); }
      });
    });
    srv.listen(0, "127.0.0.1", () => process.stdout.write(String(srv.address().port) + "\\n"));`;
  const child = spawn(process.execPath, ["-e", server], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString()))),
    );
    const upload = await new Promise<number>((resolve, reject) => {
      const start = performance.now();
      const socket = connect(port, "127.0.0.1");
      socket.on("error", reject);
      socket.once("data", () => {
        socket.destroy();
        resolve(total / 1048576 / ((performance.now() - start) / 1000));
      });
      socket.write("U");
      pump(socket, chunk, total, () => {});
    });
    const download = await new Promise<number>((resolve, reject) => {
      const start = performance.now();
      const socket = connect(port, "127.0.0.1");
      let got = 0;
      socket.on("error", reject);
      socket.on("data", (d: Buffer) => {
        got += d.length;
      });
      socket.on("end", () => resolve(got / 1048576 / ((performance.now() - start) / 1000)));
      socket.write("D");
    });
    return { upload, download };
  } finally {
    child.kill();
  }
}
