import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { ExecFileRunner } from "../../exec/command-runner.js";
import { extractVmlinux, isElf, lz4PayloadOffsets } from "./fc-kernel.js";

const runner = new ExecFileRunner();
const dir = await mkdtemp(join(tmpdir(), "wrenn-fc-kernel-"));
after(() => rm(dir, { recursive: true, force: true }));
const LZ4_MAGIC = Buffer.from([0x02, 0x21, 0x4c, 0x18]);

/** A stand-in bzImage: a setup header with a false LZ4 magic, the payload, a trailer. */
async function fakeBzImage(name: string, elf: Buffer): Promise<string> {
  const raw = join(dir, `${name}.raw`);
  await writeFile(raw, elf);
  // -l: the legacy frame format the kernel's LZ4 payload uses.
  execFileSync("lz4", ["-l", "-q", "-f", raw, `${raw}.lz4`]);
  const payload = await readFile(`${raw}.lz4`);
  const image = Buffer.concat([
    Buffer.from("MZ setup code "),
    LZ4_MAGIC,
    Buffer.from(" not a frame "),
    payload,
    Buffer.from([0x10, 0x20, 0x30, 0x40]), // the appended size word and padding
  ]);
  const path = join(dir, name);
  await writeFile(path, image);
  return path;
}

const lz4Missing = existsSync("/usr/bin/lz4") ? false : "the lz4 tool is not installed";

describe("Firecracker kernel extraction", { skip: lz4Missing }, () => {
  it("finds every LZ4 magic and recognises ELF headers", () => {
    const buf = Buffer.concat([Buffer.from("ab"), LZ4_MAGIC, Buffer.from("c"), LZ4_MAGIC]);
    assert.deepEqual(lz4PayloadOffsets(buf), [2, 7]);
    assert.deepEqual(lz4PayloadOffsets(Buffer.from("no magic here")), []);
    assert.equal(isElf(Buffer.from("\x7fELF\x02\x01")), true);
    assert.equal(isElf(Buffer.from("MZ")), false);
  });

  it("takes the ELF out of a bzImage, skipping a false magic and ignoring the trailer", async () => {
    const elf = Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01"), Buffer.alloc(300_000, 7), Buffer.from("end")]);
    const image = await fakeBzImage("bz", elf);
    const out = join(dir, "vmlinux");
    await extractVmlinux(runner, image, out);
    assert.deepEqual(await readFile(out), elf);
    assert.equal(existsSync(`${out}.lz4`), false, "the payload copy is removed");
  });

  it("an ELF passes through; an image without an ELF payload is refused and leaves nothing", async () => {
    const elf = join(dir, "already-elf");
    await writeFile(elf, "\x7fELF plain");
    await extractVmlinux(runner, elf, join(dir, "copied"));
    assert.equal(await readFile(join(dir, "copied"), "utf8"), "\x7fELF plain");
    const notElf = await fakeBzImage("bz-text", Buffer.from("a compressed text file, not a kernel"));
    const out = join(dir, "refused");
    await assert.rejects(
      extractVmlinux(runner, notElf, out),
      (e: unknown) => e instanceof PlatformError && e.reason === "NO_FIRECRACKER_KERNEL",
    );
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.lz4`), false);
  });

  const cloud = "/var/lib/wrenn/kernels/cloud";
  const cached = existsSync(cloud) ? readdirSync(cloud).find((d) => existsSync(join(cloud, d, "vmlinuz"))) : undefined;
  it("the cached Debian cloud kernel yields an x86-64 ELF vmlinux", {
    skip: cached ? false : "no cached guest kernel under /var/lib/wrenn/kernels/cloud",
  }, async () => {
    const out = join(dir, "cloud-vmlinux");
    await extractVmlinux(runner, join(cloud, cached ?? "", "vmlinuz"), out);
    const fh = await open(out, "r");
    const head = Buffer.alloc(20);
    await fh.read(head, 0, 20, 0);
    await fh.close();
    assert.equal(isElf(head), true);
    assert.equal(head[4], 2, "ELFCLASS64");
    assert.equal(head.readUInt16LE(18), 0x3e, "EM_X86_64");
  });
});
