import type { CommandRunner } from "../../exec/command-runner.js";

/** CRIU 4.1 is the first release that handles the vDSO layout of kernels ≥ 6.13 (CRIU #2532). */
const MIN_CRIU: readonly [number, number] = [4, 1];

/** PURE: the version in `criu --version` output ("Version: 3.17.1"), or undefined. */
export function parseCriuVersion(text: string): [number, number, number] | undefined {
  const m = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/**
 * One sentence saying why a namespace capsule's template keeps files but not processes.
 * Namespace templates are filesystem snapshots: CRIU-based memory snapshots would need
 * CRIU ≥ 4.1 on this kernel, and the agent does not drive CRIU (yet) even where it exists.
 */
export async function namespaceMemoryNote(runner: CommandRunner): Promise<string> {
  const r = await runner.run(["criu", "--version"]).catch(() => undefined);
  const v = r?.exitCode === 0 ? parseCriuVersion(r.stdout) : undefined;
  if (!v) return "processes and memory are not kept (filesystem only): CRIU is not installed";
  const [major, minor] = v;
  const ok = major > MIN_CRIU[0] || (major === MIN_CRIU[0] && minor >= MIN_CRIU[1]);
  if (!ok) {
    return `processes and memory are not kept (filesystem only): CRIU ${v.join(".")} is installed but ${MIN_CRIU.join(".")} or later is needed`;
  }
  return `processes and memory are not kept (filesystem only): CRIU ${v.join(".")} is present but this agent does not use it yet`;
}
