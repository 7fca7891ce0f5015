import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { describe, it } from "node:test";
import { type CommandResult, ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources, VM_ROOT_DISK_MIB } from "./image-builder.js";
import type { BuildProgress } from "./progress.js";
import { mountsBelow, parseMountPoints } from "./safe-remove.js";
import { MINIMAL_TEMPLATE } from "./template.js";

// A stable cache on purpose: the cold build (~1 min) happens once per machine, CI
// and later runs reuse it, and this test never deletes it.
const WRENN_DIR = "/var/lib/wrenn";
const sources = defaultImageSources();
const skip =
  process.getuid?.() !== 0
    ? "needs root (debootstrap, chroot, mount)"
    : !existsSync("/usr/sbin/debootstrap")
      ? "debootstrap is not installed (apt-get install debootstrap)"
      : !existsSync(sources.envdBundle)
        ? "envd bundle missing (npm run build -w @wrenn/envd)"
        : false;

const runner = new ExecFileRunner();
const env = ["/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root"];

describe("minimal image (real build)", { skip, timeout: 30 * 60_000 }, () => {
  let rootfs = "";
  const inImage = (args: string[], user?: string): Promise<CommandResult> =>
    runner.run(["chroot", ...(user ? [`--userspec=${user}`] : []), rootfs, ...env, ...args], { timeoutMs: 30_000 });

  it("builds (or reuses) the image with a root filesystem directory and an ext4 image", async (t) => {
    const progress: BuildProgress[] = [];
    const image = await buildImage({
      wrennDir: WRENN_DIR,
      template: MINIMAL_TEMPLATE,
      sources,
      runner,
      ext4: true,
      onProgress: (p) => progress.push(p),
    });
    rootfs = image.rootfs;
    t.diagnostic(
      `minimal image ${image.hash}: ${image.cached ? "cached" : "built"} in ${image.durationMs.toFixed(0)} ms`,
    );
    assert.ok(statSync(rootfs).isDirectory());
    assert.equal(progress.at(-1)?.percent, 100);
    const manifest = JSON.parse(readFileSync(`${image.dir}/manifest.json`, "utf8")) as { hash: string };
    assert.equal(manifest.hash, image.hash);
    assert.ok(image.ext4);
    const fsck = await runner.run(["e2fsck", "-f", "-n", image.ext4]);
    assert.equal(fsck.exitCode, 0, fsck.stdout + fsck.stderr);
    // A VM capsule's root disk: VM_ROOT_DISK_MIB of ext4, sparse on the host.
    const ext4 = statSync(image.ext4);
    assert.ok(ext4.size >= VM_ROOT_DISK_MIB * 2 ** 20, `ext4 image of ${ext4.size} bytes`);
    assert.ok(ext4.blocks * 512 < ext4.size / 4, "the free space is holes");
    // Mount points only: running capsules of other test files name the image in their overlay options.
    const points = parseMountPoints(readFileSync("/proc/self/mountinfo", "utf8"));
    assert.deepEqual(mountsBelow(points, `${WRENN_DIR}/images`), [], "build left a mount");
  });

  it("runs the image's Node 20 and envd bundle inside a chroot", async () => {
    const node = await inImage(["/usr/local/bin/node", "-e", "console.log(process.versions.node)"]);
    assert.match(node.stdout, /^20\./);
    const envd = await inImage(["/usr/local/bin/node", "/usr/local/lib/wrenn/envd/envd.mjs", "--version"]);
    assert.equal(envd.exitCode, 0, envd.stderr);
    assert.match(envd.stdout.trim(), /^\d+\.\d+\.\d+/);
    // The native addons resolve from node_modules/ beside the bundle and load in the image's libc.
    const addons = await inImage([
      "/usr/local/bin/node",
      "--input-type=module",
      "-e",
      'import { createRequire } from "node:module"; const r = createRequire("/usr/local/lib/wrenn/envd/envd.mjs"); const pty = r("node-pty"); const x = await import(r.resolve("fs-xattr")); console.log(typeof pty.spawn, typeof x.getAttribute);',
    ]);
    assert.equal(addons.stdout.trim(), "function function", addons.stderr);
    assert.ok(statSync(`${rootfs}/usr/local/bin/wrenn-init`).mode & 0o111);
  });

  it("has user uid 1000 with bash, a home and passwordless sudo", async () => {
    assert.equal((await inImage(["id", "user"])).stdout.trim(), "uid=1000(user) gid=1000(user) groups=1000(user)");
    assert.match((await inImage(["getent", "passwd", "user"])).stdout, /^user:x:1000:1000::\/home\/user:\/bin\/bash$/m);
    const sudo = await inImage(["sudo", "-n", "id", "-u"], "1000:1000");
    assert.equal(sudo.stdout.trim(), "0", sudo.stderr);
  });

  it("has python3 (with ssl), socat, tini, curl, sudo and a CA bundle", async () => {
    for (const bin of ["python3", "socat", "tini", "curl", "sudo"]) {
      assert.equal((await inImage(["which", bin])).exitCode, 0, `${bin} missing`);
    }
    assert.equal((await inImage(["python3", "-c", "import ssl; ssl.create_default_context()"])).exitCode, 0);
    assert.ok(statSync(`${rootfs}/etc/ssl/certs/ca-certificates.crt`).size > 100_000);
  });

  it("returns the cached image without building when nothing changed", async (t) => {
    const t0 = performance.now();
    const again = await buildImage({ wrennDir: WRENN_DIR, template: MINIMAL_TEMPLATE, sources, runner, ext4: true });
    const ms = performance.now() - t0;
    t.diagnostic(`cached build call: ${ms.toFixed(0)} ms`);
    // Speed is for bench/; what matters here is that nothing was rebuilt.
    assert.deepEqual([again.cached, again.rootfs], [true, rootfs]);
  });
});
