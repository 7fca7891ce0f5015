import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

/**
 * Transfers are driven by curl on both sides of the comparison (envd and the
 * TCP floor), so the client costs the same in both and is not JavaScript:
 * a Node client parsing 1 GiB would be the bottleneck and hide envd.
 */

const run = promisify(execFile);

/** Uploads `file` with curl (PUT, octet-stream); returns MiB/s as curl measured it. */
export async function curlUpload(url: string, file: string): Promise<number> {
  const { stdout } = await run("curl", [
    "-sS",
    "--fail",
    "-o",
    "/dev/null",
    "-w",
    "%{speed_upload}",
    "-H",
    "content-type: application/octet-stream",
    // No "Expect: 100-continue" round trip (the floor server does not answer it).
    "-H",
    "expect:",
    "-T",
    file,
    url,
  ]);
  return Number(stdout) / 1048576;
}

/** Downloads with curl (identity encoding); returns MiB/s and the byte count. */
export async function curlDownload(url: string): Promise<{ mibs: number; bytes: number }> {
  const { stdout } = await run("curl", [
    "-sS",
    "--fail",
    "-o",
    "/dev/null",
    "-H",
    "accept-encoding: identity",
    "-w",
    "%{speed_download} %{size_download}",
    url,
  ]);
  const [speed, size] = stdout.trim().split(" ").map(Number);
  return { mibs: (speed ?? 0) / 1048576, bytes: size ?? 0 };
}

/**
 * The floor: a bare Node TCP server in its own process that speaks just
 * enough HTTP/1.1 for curl — it discards an upload's body, or answers a GET
 * with `total` bytes from memory. No files, no parsing beyond the header.
 */
export async function withTcpFloorServer<T>(total: number, fn: (url: string) => Promise<T>): Promise<T> {
  const server = `
    const net = require("node:net");
    const chunk = Buffer.alloc(1048576, 1);
    net.createServer((s) => {
      let head = Buffer.alloc(0);
      const onHead = (d) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\\r\\n\\r\\n");
        if (end < 0) return;
        s.off("data", onHead);
        const text = head.subarray(0, end).toString("latin1");
        if (text.startsWith("GET")) {
          s.write("HTTP/1.1 200 OK\\r\\nContent-Length: ${total}\\r\\nConnection: close\\r\\n\\r\\n");
          let sent = 0;
          const next = () => { while (sent < ${total}) { sent += chunk.length; if (!s.write(chunk)) return void s.once("drain", next); } s.end(); };
          return next();
        }
        const want = Number(/content-length: *(\\d+)/i.exec(text)?.[1] ?? 0);
        let got = head.length - end - 4;
        const done = () => s.end("HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n");
        if (got >= want) return done();
        s.on("data", (d) => { got += d.length; if (got >= want) done(); });
      };
      s.on("data", onHead);
    }).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });`;
  const child = spawn(process.execPath, ["-e", server], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString()))),
    );
    return await fn(`http://127.0.0.1:${port}/`);
  } finally {
    child.kill();
  }
}
