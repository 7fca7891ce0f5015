/**
 * A timed step of a QEMU capsule's create, pause or resume, reported through
 * `QemuRuntimeOptions.onPhase` (the benchmark's breakdown; the agent passes nothing).
 *
 * - `kernel`, `template snapshot`: cache look-ups (a miss includes the build or the cold boot).
 * - `overlay`: the capsule's qcow2 overlay.
 * - `qemu start`: spawn → QMP answers.
 * - `incoming load`: QMP answers → the migration stream is loaded (`paused`).
 * - `cont`: the `cont` command.
 * - `guest → /health`: vCPUs running (or QEMU started, for a cold boot) → envd answers `/health`.
 * - `/init`: envd's resume hook.
 * - `save`: pause's migration to the state file and QEMU's exit.
 */
export type QemuPhase =
  | "kernel"
  | "template snapshot"
  | "overlay"
  | "qemu start"
  | "incoming load"
  | "cont"
  | "guest → /health"
  | "/init"
  | "save";

/** Receives each phase's duration in milliseconds. */
export type QemuPhaseListener = (phase: QemuPhase, ms: number) => void;

/**
 * Runs `work` and reports its duration as `phase` (also when it throws: the time was spent).
 * Without a listener it only runs `work`.
 */
export async function timed<T>(
  onPhase: QemuPhaseListener | undefined,
  phase: QemuPhase,
  work: () => Promise<T>,
): Promise<T> {
  if (!onPhase) return work();
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    onPhase(phase, performance.now() - t0);
  }
}
