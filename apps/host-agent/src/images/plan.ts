import { posix } from "node:path";
import type { Argv } from "../exec/command-runner.js";
import type { ImageFile } from "./inputs.js";
import type { BuildPhase, FileCountProbe, PlanStep } from "./plan-types.js";
import { GUEST_PATHS, type ImageTemplate } from "./template.js";

export type { BuildPhase, FileCountProbe, PlanStep };

/** What the planner needs. */
export interface RootfsPlanInput {
  /** Absolute host path of the (empty, not yet existing) rootfs directory. */
  readonly rootfs: string;
  readonly template: ImageTemplate;
  readonly files: readonly ImageFile[];
}

const MINUTE = 60_000;
const CHROOT_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
// Speeds up dpkg a lot; a crash mid-build is harmless because the whole tree is thrown away.
const APT_OPTS = ["-o", "Dpkg::Options::=--force-unsafe-io", "-o", "Dpkg::Use-Pty=0"];

/** argv that runs `command` inside `rootfs` with an empty, fixed environment (host env never leaks in). */
export function inChroot(rootfs: string, command: readonly string[]): Argv {
  return [
    "chroot",
    rootfs,
    "/usr/bin/env",
    "-i",
    CHROOT_PATH,
    "DEBIAN_FRONTEND=noninteractive",
    "LC_ALL=C.UTF-8",
    ...command,
  ];
}

/** The wrenn-init script: PID 1 of a capsule is tini, which reaps orphans and forwards signals to envd. */
export function renderInitScript(): string {
  return [
    "#!/bin/sh",
    "# Starts envd under tini (zombie reaping, signal forwarding). Arguments go to envd.",
    `exec /usr/bin/tini -s -- ${GUEST_PATHS.node} ${GUEST_PATHS.envdLoader} "$@"`,
    "",
  ].join("\n");
}

function sourcesList(t: ImageTemplate): string {
  return [
    `deb ${t.mirror} ${t.suite} main`,
    `deb ${t.mirror} ${t.suite}-updates main`,
    `deb ${t.securityMirror} ${t.suite}-security main`,
    "",
  ].join("\n");
}

/**
 * Plans a root filesystem build: debootstrap minbase, the template's packages,
 * the Node runtime and envd, the default user with passwordless sudo, then
 * cleanup. Pure: the same input always gives the same steps.
 */
export function planRootfs(input: RootfsPlanInput): PlanStep[] {
  const { rootfs: r, template: t } = input;
  const at = (guestPath: string) => posix.join(r, guestPath);
  const debs = at("/var/cache/apt/archives");
  const dpkgInfo = at("/var/lib/dpkg/info");
  const extra = Math.max(1, t.expectedPackages.total - t.expectedPackages.base);
  const apt = (...args: string[]) => inChroot(r, ["apt-get", ...APT_OPTS, ...args]);
  const user = t.user;

  const steps: PlanStep[] = [
    {
      kind: "run",
      phase: "bootstrap",
      label: `debootstrap ${t.suite} (minbase)`,
      argv: ["debootstrap", "--variant=minbase", "--merged-usr", "--components=main", t.suite, r, t.mirror],
      weight: 60,
      timeoutMs: 20 * MINUTE,
      probes: [
        { dir: debs, suffix: ".deb", expected: t.expectedPackages.base, share: 0.4 },
        { dir: dpkgInfo, suffix: ".list", expected: t.expectedPackages.base, share: 0.6 },
      ],
    },
    {
      kind: "write",
      phase: "packages",
      label: "apt sources",
      path: at("/etc/apt/sources.list"),
      content: sourcesList(t),
      mode: 0o644,
      weight: 0,
    },
    // No service may start inside the build chroot.
    {
      kind: "write",
      phase: "packages",
      label: "policy-rc.d",
      path: at("/usr/sbin/policy-rc.d"),
      content: "#!/bin/sh\nexit 101\n",
      mode: 0o755,
      weight: 0,
    },
    // apt inside the chroot needs DNS to reach the mirror; the image gets a placeholder during cleanup.
    {
      kind: "run",
      phase: "packages",
      label: "resolv.conf for apt",
      argv: ["cp", "--dereference", "/etc/resolv.conf", at("/etc/resolv.conf")],
      weight: 0,
      timeoutMs: MINUTE,
    },
    {
      kind: "with-mount",
      phase: "packages",
      label: "mount /proc for apt",
      mount: ["mount", "-t", "proc", "wrenn-build-proc", at("/proc")],
      unmount: ["umount", at("/proc")],
      weight: 0,
      steps: [
        {
          kind: "run",
          phase: "packages",
          label: "apt-get update",
          argv: apt("update"),
          weight: 6,
          timeoutMs: 10 * MINUTE,
        },
        {
          kind: "run",
          phase: "packages",
          label: "apt-get upgrade",
          argv: apt("-y", "upgrade"),
          weight: 4,
          timeoutMs: 10 * MINUTE,
        },
        {
          kind: "run",
          phase: "packages",
          label: `apt-get install ${t.packages.join(" ")}`,
          argv: apt("install", "-y", "--no-install-recommends", ...t.packages),
          weight: 20,
          timeoutMs: 20 * MINUTE,
          probes: [
            { dir: debs, suffix: ".deb", expected: extra, share: 0.4 },
            { dir: dpkgInfo, suffix: ".list", expected: extra, share: 0.6 },
          ],
        },
        { kind: "run", phase: "packages", label: "apt-get clean", argv: apt("clean"), weight: 0, timeoutMs: MINUTE },
      ],
    },
  ];

  for (const f of input.files) {
    steps.push({
      kind: "run",
      phase: "runtime",
      label: `install ${f.dest}`,
      argv: ["install", "-D", "-m", f.mode.toString(8).padStart(4, "0"), f.source, at(f.dest)],
      weight: f.dest === GUEST_PATHS.node ? 1 : 0,
      timeoutMs: MINUTE,
    });
  }
  steps.push(
    {
      kind: "write",
      phase: "runtime",
      label: "wrenn-init",
      path: at(GUEST_PATHS.init),
      content: renderInitScript(),
      mode: 0o755,
      weight: 0,
    },
    {
      kind: "run",
      phase: "user",
      label: `useradd ${user.name}`,
      argv: inChroot(r, [
        "useradd",
        "--create-home",
        "--user-group",
        "--uid",
        String(user.uid),
        "--shell",
        user.shell,
        user.name,
      ]),
      weight: 1,
      timeoutMs: MINUTE,
    },
    // sudo ignores sudoers.d files that are group/world writable, hence 0440.
    {
      kind: "write",
      phase: "user",
      label: "sudoers",
      path: at(`/etc/sudoers.d/${user.name}`),
      content: `${user.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
      mode: 0o440,
      weight: 0,
    },
    {
      kind: "run",
      phase: "user",
      label: "visudo --check",
      argv: inChroot(r, ["visudo", "--check", "--quiet", `--file=/etc/sudoers.d/${user.name}`]),
      weight: 0,
      timeoutMs: MINUTE,
    },
    // The runtime decides the hostname and DNS; these are bind/overwrite targets, never host copies.
    {
      kind: "write",
      phase: "cleanup",
      label: "hostname",
      path: at("/etc/hostname"),
      content: "wrenn\n",
      mode: 0o644,
      weight: 0,
    },
    {
      kind: "write",
      phase: "cleanup",
      label: "hosts",
      path: at("/etc/hosts"),
      content: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
      mode: 0o644,
      weight: 0,
    },
    {
      kind: "write",
      phase: "cleanup",
      label: "resolv.conf placeholder",
      path: at("/etc/resolv.conf"),
      content: "# replaced by the wrenn runtime at start\n",
      mode: 0o644,
      weight: 0,
    },
    {
      kind: "run",
      phase: "cleanup",
      label: "remove policy-rc.d",
      argv: ["rm", "-f", at("/usr/sbin/policy-rc.d")],
      weight: 0,
      timeoutMs: MINUTE,
    },
  );
  // Package lists, docs and translations are a third of the tree and nothing in a capsule reads them.
  for (const dir of ["/var/lib/apt/lists", "/usr/share/doc", "/usr/share/man", "/usr/share/info"]) {
    steps.push({
      kind: "run",
      phase: "cleanup",
      label: `empty ${dir}`,
      argv: ["find", at(dir), "-mindepth", "1", "-delete"],
      weight: 0,
      timeoutMs: MINUTE,
      onlyIfExists: at(dir),
    });
  }
  steps.push(
    {
      kind: "run",
      phase: "cleanup",
      label: "empty /usr/share/locale",
      argv: ["find", at("/usr/share/locale"), "-mindepth", "1", "!", "-name", "locale.alias", "-delete"],
      weight: 0,
      timeoutMs: MINUTE,
      onlyIfExists: at("/usr/share/locale"),
    },
    {
      kind: "run",
      phase: "cleanup",
      label: "empty /var/log",
      argv: ["find", at("/var/log"), "-type", "f", "-delete"],
      weight: 0,
      timeoutMs: MINUTE,
      onlyIfExists: at("/var/log"),
    },
  );
  return steps;
}

/** Plans an ext4 image of `rootfs` (no loop mount: mke2fs copies the tree with -d). */
export function planExt4(rootfs: string, imagePath: string, sizeMiB: number): PlanStep[] {
  return [
    {
      kind: "run",
      phase: "ext4",
      label: `mke2fs ${sizeMiB} MiB`,
      argv: [
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
        rootfs,
        imagePath,
        `${sizeMiB}M`,
      ],
      weight: 10,
      timeoutMs: 10 * MINUTE,
    },
  ];
}
