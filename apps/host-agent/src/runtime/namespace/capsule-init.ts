import type { Argv } from "../../exec/command-runner.js";

/**
 * The capsule launcher: a FIXED script (never built by interpolation) that takes every value
 * as argv. Written once per capsule to its state dir; stage `host` runs under bash, stage
 * `inner` under perl (`perl -x` skips to the `#!perl` line below the shell part).
 *
 * Stage `host` (on the host): closes inherited fds, joins the capsule's cgroups (so the new
 * cgroup namespace is rooted there), then execs nsenter into the slot's netns and unshare
 * into fresh pid/mount/uts/ipc/cgroup namespaces, re-running this file as stage `inner`.
 *
 * Stage `inner` (PID 1 of the new pid namespace): hostname, /dev (tmpfs with the basic nodes
 * and a private devpts), /proc with read-only /proc/sys etc. and masked kernel files, a
 * read-only /sys, /dev/shm and /run as tmpfs of at most half the capsule's memory (as a VM's
 * tmpfs defaults to half its RAM; tmpfs pages count against the capsule's memory limit, so an
 * unbounded one filled by a big upload OOM-killed envd instead of failing with ENOSPC), /tmp on
 * the capsule's disk like in a VM, pivot_root into the overlay, then exec the image's init
 * with a clean environment and docker's default capability bounding set minus CAP_MKNOD (no
 * devices cgroup restricts nodes here, so a capsule root could otherwise mknod the host's disk).
 *
 * Why perl for the inner stage: as a shell script it ran ~30 programs (one `mount`, `mknod`,
 * `ln`... each), and a fork + exec costs 2-5 ms on a loaded 2-vCPU host: ~100 ms of every
 * capsule start (measured by bench/host-agent). perl-base is Essential on Debian and makes the
 * same system calls from one process. Its `syscall` needs the architecture's numbers, hence
 * the table (x86_64 and aarch64, chosen by the agent from `process.arch`).
 */
export const CAPSULE_INIT_SCRIPT = `#!/bin/sh
# Wrenn namespace capsule launcher. Fixed text; every value arrives as an argument.
set -eu
stage=$1
shift
case "$stage" in
host)
  netns=$1
  shift
  # Inherited fds without close-on-exec would leak into the capsule (seen: fd 10, 251).
  for fd in /proc/$$/fd/*; do
    n=\${fd##*/}
    case "$n" in '' | *[!0-9]*) continue ;; esac
    [ "$n" -gt 2 ] || continue
    [ -e "/proc/$$/fdinfo/$n" ] || continue
    flags=
    while read -r k v; do
      case "$k" in flags:) flags=$v ;; esac
    done <"/proc/$$/fdinfo/$n"
    [ -n "$flags" ] || continue
    [ $(( 0$flags & 02000000 )) -eq 0 ] || continue
    eval "exec $n>&-"
  done
  while [ "$1" != "--" ]; do
    echo $$ >"$1"
    shift
  done
  shift
  exec nsenter "--net=$netns" -- unshare --pid --fork --kill-child --mount --uts --ipc --cgroup \\
    --propagation private -- /usr/bin/perl -x "$0" inner "$@"
  ;;
esac
echo "usage: capsule-init host ..." >&2
exit 2
#!/usr/bin/perl
# Stage inner: argv = inner ARCH ROOT HOSTNAME TMPFS_SIZE INIT [ARGS...]
use strict;
use warnings;
my ($stage, $arch, $R, $H, $T, @init) = @ARGV;
die "usage: capsule-init inner ARCH ROOT HOSTNAME SIZE INIT...\\n" unless $stage eq "inner" && @init;
my %nr = (
  x64   => { mount => 165, umount2 => 166, pivot_root => 155, sethostname => 170, mknodat => 259 },
  arm64 => { mount => 40,  umount2 => 39,  pivot_root => 41,  sethostname => 161, mknodat => 33 },
);
my $sys = $nr{$arch} or die "capsule-init: unsupported architecture $arch\\n";
my ($RDONLY, $NOSUID, $NODEV, $NOEXEC, $REMOUNT, $BIND, $REC) = (1, 2, 4, 8, 32, 4096, 16384);
# syscall passes numbers as integers and strings as pointers it may write through: every
# argument is copied first (a literal is read-only), a path is never used as a number, and 0
# stands for NULL.
sub sc {
  my ($what, $name, @args) = @_;
  syscall($sys->{$name}, @args) == 0 or die "capsule-init: $what: $!\\n";
}
sub mnt { sc("mount $_[1]", "mount", @_) }
sc("sethostname", "sethostname", $H, length $H);
mnt($R, $R, 0, $BIND | $REC, 0);
mnt("devtmp", "$R/dev", "tmpfs", $NOSUID, "mode=755,size=64k");
my $umask = umask 0;
for my $n (["null", 1, 3], ["zero", 1, 5], ["full", 1, 7], ["random", 1, 8], ["urandom", 1, 9], ["tty", 5, 0]) {
  my ($name, $major, $minor) = @$n;
  sc("mknod $name", "mknodat", -100, "$R/dev/$name", 0020666, ($major << 8) | $minor);
}
for my $d ("pts", "shm") { mkdir "$R/dev/$d", 0755 or die "capsule-init: mkdir /dev/$d: $!\\n" }
umask $umask;
mnt("devpts", "$R/dev/pts", "devpts", $NOSUID | $NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5");
mnt("shm", "$R/dev/shm", "tmpfs", $NOSUID | $NODEV, "mode=1777,size=$T");
symlink "pts/ptmx", "$R/dev/ptmx" or die "capsule-init: symlink ptmx: $!\\n";
symlink "/proc/self/fd", "$R/dev/fd" or die "capsule-init: symlink fd: $!\\n";
mnt("proc", "$R/proc", "proc", $NOSUID | $NODEV | $NOEXEC, 0);
for my $p ("sys", "irq", "bus", "fs", "sysrq-trigger") {
  next unless -e "$R/proc/$p";
  mnt("$R/proc/$p", "$R/proc/$p", 0, $BIND, 0);
  mnt("$R/proc/$p", "$R/proc/$p", 0, $BIND | $REMOUNT | $RDONLY | $NOSUID | $NODEV | $NOEXEC, 0);
}
for my $p ("kcore", "keys", "timer_list", "sched_debug") {
  mnt("$R/dev/null", "$R/proc/$p", 0, $BIND, 0) if -e "$R/proc/$p";
}
mnt("sysfs", "$R/sys", "sysfs", $RDONLY | $NOSUID | $NODEV | $NOEXEC, 0);
mnt("run", "$R/run", "tmpfs", $NOSUID | $NODEV, "mode=755,size=$T");
chdir $R or die "capsule-init: chdir: $!\\n";
sc("pivot_root", "pivot_root", ".", ".");
sc("umount old root", "umount2", ".", 2);
chdir "/" or die "capsule-init: chdir /: $!\\n";
# envd survives a capsule OOM: it is protected here (needs CAP_SYS_RESOURCE, which some
# hosts lack: then best effort) and raises its children to +100.
if (open my $oom, ">", "/proc/self/oom_score_adj") { print $oom "-500\\n"; close $oom }
%ENV = (PATH => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME => "/root");
my @caps = qw(chown dac_override fsetid fowner net_raw setgid setuid setfcap setpcap net_bind_service sys_chroot kill audit_write);
exec { "/usr/bin/setpriv" } "/usr/bin/setpriv", "--inh-caps=-all",
  "--bounding-set=-all," . join(",", map { "+$_" } @caps), "--", @init;
die "capsule-init: exec $init[0]: $!\\n";
`;

/** Values the launcher needs for one capsule. */
export interface LaunchPlanInput {
  readonly scriptPath: string;
  readonly netnsPath: string;
  readonly cgroupProcs: readonly string[];
  readonly rootDir: string;
  readonly hostname: string;
  /** Size of each tmpfs (/dev/shm, /run) in MiB: half the capsule's memory. */
  readonly tmpfsMiB: number;
  /** The image's init and its arguments, run inside the capsule. */
  readonly init: readonly [string, ...string[]];
  /** The host's architecture as Node names it (`process.arch`); picks the system call numbers. */
  readonly arch: LauncherArch;
}

/** Architectures whose system call numbers the launcher knows. */
export type LauncherArch = "x64" | "arm64";

/** PURE: the launcher architecture for `arch` (a `process.arch` value), undefined if unsupported. */
export function launcherArch(arch: string): LauncherArch | undefined {
  return arch === "x64" || arch === "arm64" ? arch : undefined;
}

/** PURE: the argv that launches a capsule. */
export function planLaunch(input: LaunchPlanInput): Argv {
  for (const p of input.cgroupProcs) if (p === "--") throw new Error("invalid cgroup path");
  if (!Number.isInteger(input.tmpfsMiB) || input.tmpfsMiB < 1) throw new Error("invalid tmpfs size");
  return [
    // bash, not dash: dash cannot close fds above 9 (a leaked fd 251 was seen here).
    "/bin/bash",
    input.scriptPath,
    "host",
    input.netnsPath,
    ...input.cgroupProcs,
    "--",
    input.arch,
    input.rootDir,
    input.hostname,
    `${input.tmpfsMiB}m`,
    ...input.init,
  ];
}
