/** Result of one command run through envd's Process service. @internal */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
}

interface StartEvent {
  event?: {
    data?: { stdout?: string; stderr?: string };
    end?: { exitCode?: number };
  };
}

/**
 * Runs `/bin/sh -c script` through envd's Connect API (POST /process.Process/Start, Connect
 * JSON streaming envelopes) and collects its output. A test helper, kept dependency-free.
 * @internal
 */
export async function envdExec(
  envdUrl: string,
  script: string,
  opts: { user?: string; timeoutMs?: number; accessToken?: string } = {},
): Promise<ExecResult> {
  const body = Buffer.from(JSON.stringify({ process: { cmd: "/bin/sh", args: ["-c", script] } }));
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  const headers: Record<string, string> = {
    "content-type": "application/connect+json",
    "connect-protocol-version": "1",
  };
  if (opts.accessToken !== undefined) headers["x-access-token"] = opts.accessToken;
  if (opts.user !== undefined) headers["authorization"] = `Basic ${Buffer.from(`${opts.user}:`).toString("base64")}`;
  const res = await fetch(`${envdUrl}/process.Process/Start`, {
    method: "POST",
    headers,
    body: frame,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let stdout = "";
  let stderr = "";
  let exitCode: number | undefined;
  for (let off = 0; off + 5 <= buf.length; ) {
    const flags = buf.readUInt8(off);
    const len = buf.readUInt32BE(off + 1);
    const msg = JSON.parse(buf.subarray(off + 5, off + 5 + len).toString("utf8")) as StartEvent & {
      error?: { message?: string };
    };
    off += 5 + len;
    if (flags & 0x02) {
      if (msg.error) throw new Error(`envd: ${msg.error.message ?? "error"}`);
      continue;
    }
    const ev = msg.event;
    if (ev?.data?.stdout) stdout += Buffer.from(ev.data.stdout, "base64").toString("utf8");
    if (ev?.data?.stderr) stderr += Buffer.from(ev.data.stderr, "base64").toString("utf8");
    if (ev?.end) exitCode = ev.end.exitCode ?? 0;
  }
  return { stdout, stderr, exitCode };
}
