import type { Argv } from "../../exec/command-runner.js";

/**
 * The capsule launcher: a FIXED script (never built by interpolation) that takes every value
 * as argv. Written once per capsule to its state dir; stage `host` runs under bash, `inner` under sh.
 *
 * Stage `host` (on the host): closes inherited fds, joins the capsule's cgroups (so the new
 * cgroup namespace is rooted there), then execs nsenter into the slot's netns and unshare
 * into fresh pid/mount/uts/ipc/cgroup namespaces, re-running this script as stage `inner`.
 *
 * Stage `inner` (PID 1 of the new pid namespace): hostname, /dev (tmpfs with the basic nodes
 * and a private devpts), /proc with read-only /proc/sys etc. and masked kernel files, a
 * read-only /sys, /dev/shm and /run as tmpfs of at most half the capsule's memory (as a VM's
 * tmpfs defaults to half its RAM; tmpfs pages count against the capsule's memory limit, so an
 * unbounded one filled by a big upload OOM-killed envd instead of failing with ENOSPC), /tmp on
 * the capsule's disk like in a VM, pivot_root into the overlay, then exec the image's init
 * with a clean environment and docker's default capability bounding set minus CAP_MKNOD (no
 * devices cgroup restricts nodes here, so a capsule root could otherwise mknod the host's disk).
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
    --propagation private -- /bin/sh "$0" inner "$@"
  ;;
inner)
  R=$1
  H=$2
  T=$3
  shift 3
  hostname "$H"
  mount --rbind "$R" "$R"
  mount -t tmpfs -o nosuid,mode=755,size=64k devtmp "$R/dev"
  mknod -m 666 "$R/dev/null" c 1 3
  mknod -m 666 "$R/dev/zero" c 1 5
  mknod -m 666 "$R/dev/full" c 1 7
  mknod -m 666 "$R/dev/random" c 1 8
  mknod -m 666 "$R/dev/urandom" c 1 9
  mknod -m 666 "$R/dev/tty" c 5 0
  mkdir "$R/dev/pts" "$R/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$R/dev/pts"
  mount -t tmpfs -o "nosuid,nodev,mode=1777,size=$T" shm "$R/dev/shm"
  ln -s pts/ptmx /proc/self/fd "$R/dev/"
  mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
  for p in sys irq bus fs sysrq-trigger; do
    [ ! -e "$R/proc/$p" ] || mount --bind -o ro "$R/proc/$p" "$R/proc/$p"
  done
  for p in kcore keys timer_list sched_debug; do
    [ ! -e "$R/proc/$p" ] || mount --bind "$R/dev/null" "$R/proc/$p"
  done
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
  mount -t tmpfs -o "nosuid,nodev,mode=755,size=$T" run "$R/run"
  cd "$R"
  pivot_root . .
  umount -l .
  cd /
  # envd survives a capsule OOM: it is protected here (needs CAP_SYS_RESOURCE, which some
  # hosts lack: then best effort) and raises its children to +100.
  # A group, not a subshell: the subshell would change its own score, not this shell's.
  { echo -500 >/proc/self/oom_score_adj; } 2>/dev/null || true
  exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \\
    /usr/bin/setpriv --inh-caps=-all \\
    --bounding-set=-all,+chown,+dac_override,+fsetid,+fowner,+net_raw,+setgid,+setuid,+setfcap,+setpcap,+net_bind_service,+sys_chroot,+kill,+audit_write \\
    -- "$@"
  ;;
*)
  echo "usage: capsule-init host|inner ..." >&2
  exit 2
  ;;
esac
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
    input.rootDir,
    input.hostname,
    `${input.tmpfsMiB}m`,
    ...input.init,
  ];
}
