/**
 * What changes when a capsule launched ahead of time (the warm pool) is claimed by a create:
 * its kernel hostname and the size of its /dev/shm and /run tmpfs, both of which live in the
 * capsule's own namespaces (UTS, mount) that no host path reaches.
 */
import { readFile } from "node:fs/promises";
import type { Argv } from "../../exec/command-runner.js";
import type { LauncherArch } from "./capsule-init.js";

/** The identity and shape a claimed capsule takes on (SandboxHandle of the namespace runtime). */
export interface AdoptIdentity {
  /** The sandbox id: hostname, cgroup name. Same rules as SandboxSpec.sandboxId. */
  readonly sandboxId: string;
  readonly vcpus: number;
  readonly memoryMb: number;
}

/**
 * The adopter: a FIXED perl script (never built by interpolation) run by the HOST's perl with
 * every value as argv. It opens the capsule PID 1's UTS and mount namespaces, joins the UTS
 * one and sets the hostname, then joins the mount one and remounts /dev/shm and /run with the
 * new size (their flags restated: a remount without them would drop nosuid/nodev).
 *
 * Why not `nsenter ... hostname` / `mount`: after joining a mount namespace a program runs
 * from the capsule's root, i.e. the template's binaries, with the host's privileges. This
 * process is exec'd from the host before any setns and execs nothing afterwards.
 * setns numbers: x86_64 308, aarch64 268 (the others as in capsule-init.ts).
 */
export const CAPSULE_ADOPT_SCRIPT = `use strict;
use warnings;
my ($arch, $pid, $H, $T) = @ARGV;
die "usage: capsule-adopt ARCH PID HOSTNAME SIZE\\n" unless defined $T && $pid =~ /^[0-9]+$/;
my %nr = (
  x64   => { setns => 308, sethostname => 170, mount => 165 },
  arm64 => { setns => 268, sethostname => 161, mount => 40 },
);
my $sys = $nr{$arch} or die "capsule-adopt: unsupported architecture $arch\\n";
my ($NOSUID, $NODEV, $REMOUNT, $NEWNS, $NEWUTS) = (2, 4, 32, 0x00020000, 0x04000000);
# As in capsule-init.ts: strings are copies (syscall may write through a pointer), 0 is NULL.
sub sc {
  my ($what, $name, @args) = @_;
  syscall($sys->{$name}, @args) == 0 or die "capsule-adopt: $what: $!\\n";
}
open my $uts, "<", "/proc/$pid/ns/uts" or die "capsule-adopt: open uts namespace: $!\\n";
open my $mnt, "<", "/proc/$pid/ns/mnt" or die "capsule-adopt: open mount namespace: $!\\n";
sc("setns uts", "setns", fileno($uts), $NEWUTS);
sc("sethostname", "sethostname", $H, length $H);
sc("setns mnt", "setns", fileno($mnt), $NEWNS);
for my $d ("/dev/shm", "/run") {
  my ($path, $src, $data) = ("$d", "tmpfs", "size=$T");
  sc("remount $d", "mount", $src, $path, 0, $REMOUNT | $NOSUID | $NODEV, $data);
}
`;

/** Values of one adoption. */
export interface AdoptPlanInput {
  readonly arch: LauncherArch;
  /** The capsule's PID 1 as the host sees it. */
  readonly initPid: number;
  readonly hostname: string;
  /** New size of /dev/shm and /run in MiB (half the capsule's memory, as at launch). */
  readonly tmpfsMiB: number;
}

/** PURE: the argv that applies an adoption (see {@link CAPSULE_ADOPT_SCRIPT}). */
export function planAdopt(input: AdoptPlanInput): Argv {
  if (!Number.isInteger(input.initPid) || input.initPid < 2) throw new Error("invalid capsule init pid");
  if (!Number.isInteger(input.tmpfsMiB) || input.tmpfsMiB < 1) throw new Error("invalid tmpfs size");
  if (!/^[a-z0-9-]{1,63}$/.test(input.hostname)) throw new Error("invalid hostname");
  return [
    "/usr/bin/perl",
    "-e",
    CAPSULE_ADOPT_SCRIPT,
    "--",
    input.arch,
    String(input.initPid),
    input.hostname,
    `${input.tmpfsMiB}m`,
  ];
}

/**
 * The capsule's PID 1 (host view): the only child of the launcher (`unshare --fork`, which
 * stays the parent of the new PID namespace's init). Undefined when it has none (exited).
 */
export async function capsuleInitPid(launcherPid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${launcherPid}/task/${launcherPid}/children`, "utf8").catch(() => "");
  const first = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(first) && first > 1 ? first : undefined;
}
