/** Which runtime the agent runs capsules with, and why (logged at start, reported by GetHostInfo). */
import { PlatformError } from "@wrenn/kit";
import type { RuntimeChoice } from "../config.js";
import type { Runtime } from "../runtime/runtime.js";

/** The runtimes the agent can pick from, plus the hardware-KVM probe `auto` decides on. */
export interface RuntimeCandidates {
  readonly namespace: Runtime;
  readonly qemu: Runtime;
  readonly firecracker: Runtime;
  /** Hardware virtualisation behind /dev/kvm (kvm_pvm does not count: stock kernels hang under it). */
  readonly hardwareKvm: () => Promise<{ readonly ok: boolean; readonly reason: string }>;
}

/** The chosen runtime and one sentence saying why. */
export interface ChosenRuntime {
  readonly runtime: Runtime;
  readonly reason: string;
}

/**
 * `auto`: firecracker when its binary and hardware KVM are usable; else QEMU with hardware
 * KVM; else namespace — the fast default where KVM is unusable (QEMU under TCG runs guests
 * 20–30× slower, so auto never picks it). A forced choice is honoured only if that runtime
 * can run here; otherwise `failed_precondition` with the runtime's own reason.
 */
export async function chooseRuntime(choice: RuntimeChoice, c: RuntimeCandidates): Promise<ChosenRuntime> {
  if (choice !== "auto") {
    const runtime = c[choice];
    const a = await runtime.availability();
    if (!a.available) {
      throw new PlatformError(
        "failed_precondition",
        "RUNTIME_UNAVAILABLE",
        `the ${choice} runtime cannot run here: ${a.reason}`,
      );
    }
    return { runtime, reason: `${choice} (forced): ${a.reason}` };
  }
  const fc = await c.firecracker.availability();
  if (fc.available) return { runtime: c.firecracker, reason: `firecracker: ${fc.reason}` };
  const kvm = await c.hardwareKvm();
  const qemu = await c.qemu.availability();
  if (kvm.ok && qemu.available) {
    return { runtime: c.qemu, reason: `qemu with hardware KVM (${kvm.reason}); firecracker ${fc.reason}` };
  }
  const ns = await c.namespace.availability();
  if (ns.available) {
    const why = kvm.ok ? `QEMU is unusable (${qemu.reason})` : `hardware KVM is unusable (${kvm.reason})`;
    return { runtime: c.namespace, reason: `namespace (${ns.reason}): ${why}; firecracker ${fc.reason}` };
  }
  throw new PlatformError(
    "failed_precondition",
    "NO_RUNTIME",
    `no runtime can run here: namespace: ${ns.reason}; qemu: ${qemu.reason}; firecracker: ${fc.reason}`,
  );
}
