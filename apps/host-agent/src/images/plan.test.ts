import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageFile } from "./inputs.js";
import { inChroot, type PlanStep, planExt4, planRootfs, renderInitScript } from "./plan.js";
import { MINIMAL_TEMPLATE } from "./template.js";

const R = "/images/minimal/.tmp-x/rootfs";
const files: ImageFile[] = [
  { source: "/host/envd.mjs", dest: "/usr/local/lib/wrenn/envd/envd.mjs", mode: 0o644, sha256: "a" },
  { source: "/usr/bin/node", dest: "/usr/local/bin/node", mode: 0o755, sha256: "b" },
];

function flat(steps: readonly PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => (s.kind === "with-mount" ? [s, ...flat(s.steps)] : [s]));
}
const argvs = (steps: readonly PlanStep[]) => flat(steps).flatMap((s) => (s.kind === "run" ? [s.argv.join(" ")] : []));

describe("planRootfs", () => {
  const plan = planRootfs({ rootfs: R, template: MINIMAL_TEMPLATE, files });

  it("bootstraps bookworm minbase from the Debian mirror first", () => {
    assert.deepEqual(plan[0]?.kind === "run" && plan[0].argv, [
      "debootstrap",
      "--variant=minbase",
      "--merged-usr",
      "--components=main",
      "bookworm",
      R,
      "http://deb.debian.org/debian",
    ]);
  });

  it("installs the template packages inside a chroot with an empty environment, with /proc mounted only around apt", () => {
    const scoped = plan.find((s) => s.kind === "with-mount");
    assert.ok(scoped && scoped.kind === "with-mount");
    assert.deepEqual(scoped.mount, ["mount", "-t", "proc", "wrenn-build-proc", `${R}/proc`]);
    assert.deepEqual(scoped.unmount, ["umount", `${R}/proc`]);
    assert.deepEqual(argvs(scoped.steps), [
      `chroot ${R} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 apt-get -o Dpkg::Options::=--force-unsafe-io -o Dpkg::Use-Pty=0 update`,
      `chroot ${R} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 apt-get -o Dpkg::Options::=--force-unsafe-io -o Dpkg::Use-Pty=0 -y upgrade`,
      `chroot ${R} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 apt-get -o Dpkg::Options::=--force-unsafe-io -o Dpkg::Use-Pty=0 install -y --no-install-recommends ca-certificates curl python3 socat sudo tini`,
      `chroot ${R} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 apt-get -o Dpkg::Options::=--force-unsafe-io -o Dpkg::Use-Pty=0 clean`,
    ]);
    // Nothing after the scoped block needs /proc.
    const after = plan.slice(plan.indexOf(scoped) + 1);
    assert.ok(after.every((s) => s.kind !== "with-mount"));
  });

  it("copies node and envd with install -D and fixed modes", () => {
    const runs = argvs(plan);
    assert.ok(runs.includes(`install -D -m 0755 /usr/bin/node ${R}/usr/local/bin/node`));
    assert.ok(runs.includes(`install -D -m 0644 /host/envd.mjs ${R}/usr/local/lib/wrenn/envd/envd.mjs`));
  });

  it("creates uid 1000 `user` with bash and validated passwordless sudo", () => {
    const runs = argvs(plan);
    assert.ok(
      runs.includes(
        `${inChroot(R, ["useradd", "--create-home", "--user-group", "--uid", "1000", "--shell", "/bin/bash", "user"]).join(" ")}`,
      ),
    );
    const sudoers = plan.find((s) => s.kind === "write" && s.path.endsWith("/etc/sudoers.d/user"));
    assert.deepEqual(sudoers?.kind === "write" && [sudoers.content, sudoers.mode], [
      "user ALL=(ALL:ALL) NOPASSWD: ALL\n",
      0o440,
    ]);
    assert.ok(runs.some((r) => r.endsWith("visudo --check --quiet --file=/etc/sudoers.d/user")));
  });

  it("leaves no host resolv.conf, hostname or policy-rc.d in the image", () => {
    const writes = new Map(flat(plan).flatMap((s) => (s.kind === "write" ? [[s.path, s.content] as const] : [])));
    assert.equal(writes.get(`${R}/etc/hostname`), "wrenn\n");
    assert.match(writes.get(`${R}/etc/resolv.conf`) ?? "", /^# replaced by the wrenn runtime/);
    assert.ok(argvs(plan).includes(`rm -f ${R}/usr/sbin/policy-rc.d`));
  });

  it("starts envd under tini from wrenn-init", () => {
    assert.equal(
      renderInitScript(),
      '#!/bin/sh\n# Starts envd under tini (zombie reaping, signal forwarding). Arguments go to envd.\nexec /usr/bin/tini -s -- /usr/local/bin/node /usr/local/lib/wrenn/envd/envd.cjs "$@"\n',
    );
  });

  it("is pure: the same input gives the same plan", () => {
    assert.deepEqual(planRootfs({ rootfs: R, template: MINIMAL_TEMPLATE, files }), plan);
  });

  it("only uses argv arrays with absolute paths under the rootfs for in-image files", () => {
    for (const s of flat(plan)) if (s.kind === "write") assert.ok(s.path.startsWith(`${R}/`), s.path);
  });
});

describe("planExt4", () => {
  it("runs mke2fs -d, no loop mount", () => {
    const [step] = planExt4("/img/rootfs", "/img/.x", 300);
    assert.deepEqual(step?.kind === "run" && step.argv, [
      "mke2fs",
      "-q",
      "-F",
      "-t",
      "ext4",
      "-L",
      "wrenn-root",
      "-b",
      "4096",
      "-m",
      "0",
      "-d",
      "/img/rootfs",
      "/img/.x",
      "300M",
    ]);
  });
});
