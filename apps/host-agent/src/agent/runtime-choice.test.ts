import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import type { Runtime, RuntimeKind } from "../runtime/runtime.js";
import { chooseRuntime, type RuntimeCandidates } from "./runtime-choice.js";

/** A runtime that only answers availability (selection never creates anything). */
function runtime(kind: RuntimeKind, available: boolean, reason: string): Runtime {
  return {
    kind,
    availability: async () => ({ available, reason }),
    create: () => Promise.reject(new Error("not used")),
  };
}

function candidates(o: { fc: boolean; kvm: boolean; qemu: boolean; ns: boolean }): RuntimeCandidates {
  return {
    firecracker: runtime("firecracker", o.fc, o.fc ? "firecracker at /usr/bin/firecracker" : "no firecracker binary"),
    qemu: runtime("qemu", o.qemu, o.qemu ? "QEMU" : "qemu-system-x86_64 is missing"),
    namespace: runtime("namespace", o.ns, o.ns ? "namespaces + overlayfs" : "the namespace runtime needs root"),
    hardwareKvm: async () => ({ ok: o.kvm, reason: o.kvm ? "vmx" : "no vmx/svm (kvm_pvm?)" }),
  };
}

describe("chooseRuntime", () => {
  it("auto prefers firecracker, then QEMU with hardware KVM, then namespace (never QEMU under TCG)", async () => {
    const pick = async (o: Parameters<typeof candidates>[0]) =>
      (await chooseRuntime("auto", candidates(o))).runtime.kind;
    assert.equal(await pick({ fc: true, kvm: true, qemu: true, ns: true }), "firecracker");
    assert.equal(await pick({ fc: false, kvm: true, qemu: true, ns: true }), "qemu");
    assert.equal(await pick({ fc: false, kvm: false, qemu: true, ns: true }), "namespace");
    assert.equal(await pick({ fc: false, kvm: true, qemu: false, ns: true }), "namespace");
    const why = await chooseRuntime("auto", candidates({ fc: false, kvm: false, qemu: true, ns: true }));
    assert.match(why.reason, /hardware KVM is unusable \(no vmx\/svm/);
    assert.match(why.reason, /firecracker no firecracker binary/);
    await assert.rejects(
      chooseRuntime("auto", candidates({ fc: false, kvm: false, qemu: false, ns: false })),
      (e: unknown) =>
        e instanceof PlatformError &&
        /no runtime can run here: namespace: the namespace runtime needs root/.test(e.message),
    );
  });

  it("a forced runtime is used only when it can run, with its own reason otherwise", async () => {
    const c = candidates({ fc: false, kvm: false, qemu: true, ns: true });
    const q = await chooseRuntime("qemu", c);
    assert.equal(q.runtime.kind, "qemu");
    assert.match(q.reason, /forced/);
    await assert.rejects(
      chooseRuntime("firecracker", c),
      (e: unknown) =>
        e instanceof PlatformError &&
        e.code === "failed_precondition" &&
        e.message === "the firecracker runtime cannot run here: no firecracker binary",
    );
  });
});
