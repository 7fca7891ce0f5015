import { PlatformError } from "@wrenn/kit";
import { EnvdClient } from "../../envd-client/envd-client.js";

/** Per call: envd's first process start under TCG loads its process code (seconds when the host is busy). */
const WARMUP_TIMEOUT_MS = 120_000;

/**
 * Makes envd load the code of its RPC services before the template VM is snapshotted.
 *
 * Why: envd loads its Connect services and process code on first use. In a capsule restored
 * from a snapshot taken right after `/health`, the first command paid that load under TCG
 * (5–10 s of guest time measured on a busy 2-vCPU host); loaded here once, every restored
 * capsule starts with it in memory. One `/bin/true` (process code, spawn path) and one
 * `Stat /` (filesystem code). Throws when envd answers with an error or a non-zero exit.
 */
export async function warmEnvd(envdUrl: string, signal?: AbortSignal): Promise<void> {
  const envd = new EnvdClient({ baseUrl: envdUrl, timeoutMs: WARMUP_TIMEOUT_MS });
  try {
    const deadline = AbortSignal.timeout(WARMUP_TIMEOUT_MS);
    const opts = { signal: signal ? AbortSignal.any([signal, deadline]) : deadline };
    let exitCode: number | undefined;
    for await (const r of envd.process.start({ process: { cmd: "/bin/true", args: [] }, stdin: false }, opts)) {
      const ev = r.event?.event;
      if (ev?.case === "end") exitCode = ev.value.exitCode;
    }
    if (exitCode !== 0) {
      throw new PlatformError("internal", "ENVD_WARMUP_FAILED", `warm-up command ended with ${exitCode ?? "no exit"}`);
    }
    await envd.filesystem.stat({ path: "/" }, opts);
  } finally {
    envd.close();
  }
}
