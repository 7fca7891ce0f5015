import type { Argv } from "../exec/command-runner.js";

/** Build phases, in order; the progress display names them. */
export type BuildPhase = "bootstrap" | "packages" | "runtime" | "user" | "cleanup" | "ext4";

/**
 * Estimates how far a long command has got by counting files it produces
 * (e.g. downloaded .deb files, dpkg's per-package .list files), because
 * CommandRunner only hands back output once the command has finished.
 * Counts are taken relative to the count when the step starts.
 */
export interface FileCountProbe {
  readonly dir: string;
  readonly suffix: string;
  readonly expected: number;
  /** This part's share of the step (all parts of a step add up to 1). */
  readonly share: number;
}

/** One step of a build plan: pure data, applied by applyPlan. */
export type PlanStep =
  | {
      readonly kind: "run";
      readonly phase: BuildPhase;
      readonly label: string;
      readonly argv: Argv;
      /** Relative cost, for the overall percentage. */
      readonly weight: number;
      readonly timeoutMs: number;
      readonly probes?: readonly FileCountProbe[];
      /** Skip the step when this host path does not exist (cleanup of optional folders). */
      readonly onlyIfExists?: string;
    }
  | {
      readonly kind: "write";
      readonly phase: BuildPhase;
      readonly label: string;
      /** Absolute host path (inside the rootfs being built). */
      readonly path: string;
      readonly content: string;
      readonly mode: number;
      readonly weight: number;
    }
  | {
      /** Runs `steps` with a mount in place; the applier always runs `unmount`, even on failure. */
      readonly kind: "with-mount";
      readonly phase: BuildPhase;
      readonly label: string;
      readonly mount: Argv;
      readonly unmount: Argv;
      readonly steps: readonly PlanStep[];
      readonly weight: number;
    };
