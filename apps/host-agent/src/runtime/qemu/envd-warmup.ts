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

/**
 * PURE: a `sh` script that fills the guest's free memory with zeros and frees it again (tmpfs
 * files under /dev/shm and /run, each capped by its tmpfs size; 16 MiB stay free (the kernel keeps a few MiB for itself) so nothing is
 * reclaimed or killed). Why: pages the kernel freed during boot (initramfs, early allocations)
 * keep their old bytes, so the template's RAM image and every capsule's pause file carried
 * ~70 MiB of garbage; zeroed, they are holes in the RAM image and skipped by migration.
 */
export function zeroFreeMemoryScript(): string {
  return [
    "free=0",
    'while read -r k v _; do [ "$k" = MemFree: ] && free=$((v / 1024)); done < /proc/meminfo',
    "n=$((free - 16))",
    "[ $n -gt 0 ] || exit 0",
    "a=$((n / 2))",
    "dd if=/dev/zero of=/dev/shm/.wrenn-zero bs=1M count=$a 2>/dev/null",
    "dd if=/dev/zero of=/run/.wrenn-zero bs=1M count=$((n - a)) 2>/dev/null",
    "rm -f /dev/shm/.wrenn-zero /run/.wrenn-zero",
    "exit 0",
  ].join("\n");
}

/** Runs zeroFreeMemoryScript() in the guest as root (envd's Basic-auth user). */
export async function zeroFreeGuestMemory(envdUrl: string, signal?: AbortSignal): Promise<void> {
  const envd = new EnvdClient({ baseUrl: envdUrl, timeoutMs: WARMUP_TIMEOUT_MS });
  try {
    const deadline = AbortSignal.timeout(WARMUP_TIMEOUT_MS);
    const opts = {
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headers: { authorization: `Basic ${Buffer.from("root:").toString("base64")}` },
    };
    let exitCode: number | undefined;
    const cmd = { cmd: "/bin/sh", args: ["-c", zeroFreeMemoryScript()] };
    for await (const r of envd.process.start({ process: cmd, stdin: false }, opts)) {
      const ev = r.event?.event;
      if (ev?.case === "end") exitCode = ev.value.exitCode;
    }
    if (exitCode !== 0) {
      throw new PlatformError("internal", "ZERO_FILL_FAILED", `zero-fill ended with ${exitCode ?? "no exit"}`);
    }
  } finally {
    envd.close();
  }
}
