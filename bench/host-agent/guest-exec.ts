import { EnvdClient } from "../../apps/host-agent/src/envd-client/envd-client.js";

/** Runs `cmd` in a capsule straight through its envd (no agent in between); resolves with the exit code. */
export async function envdRun(
  envdUrl: string,
  cmd: string,
  args: string[] = [],
  signal?: AbortSignal,
): Promise<number> {
  const envd = new EnvdClient({ baseUrl: envdUrl });
  try {
    let code: number | undefined;
    for await (const r of envd.process.start({ process: { cmd, args }, stdin: false }, signal ? { signal } : {})) {
      const ev = r.event?.event;
      if (ev?.case === "end") code = ev.value.exitCode;
    }
    if (code === undefined) throw new Error(`${cmd}: the stream ended without an exit code`);
    return code;
  } finally {
    envd.close();
  }
}
