import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { ExecFileRunner } from "../exec/command-runner.js";
import { type TemplateMeta, TemplateStore, templateImage } from "./template-store.js";

const TEAM = "00000000-0000-0000-0000-000000000001";
const isCode = (code: string) => (e: unknown) => e instanceof PlatformError && e.code === code;

it("TemplateStore: atomic create, exists check, read, image, delete, leftover cleanup, id checks", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "wrenn-tpl-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new TemplateStore(root, new ExecFileRunner());
  const fill = async (dir: string) => {
    await mkdir(join(dir, "rootfs", "etc"), { recursive: true });
    await writeFile(join(dir, "rootfs", "etc", "hostname"), "x\n");
    return {
      kind: "snapshot" as const,
      runtime: "namespace" as const,
      mode: "filesystem" as const,
      note: "files only",
      files: { rootfsDir: "rootfs" },
      sourceSandboxId: "sb-1",
      vcpus: 1,
      memoryMb: 256,
    };
  };
  const made = await store.create(TEAM, "tpl-1", fill);
  assert.equal(made.dir, join(root, TEAM, "tpl-1"));
  assert.ok(made.sizeBytes > 0);
  assert.deepEqual((await readdir(join(root, TEAM))).sort(), ["tpl-1"], "no temp dir left");
  const meta = (await store.read(TEAM, "tpl-1")) as TemplateMeta;
  assert.deepEqual([meta.version, meta.templateId, meta.teamId, meta.kind], [1, "tpl-1", TEAM, "snapshot"]);
  assert.deepEqual(templateImage(made.dir, meta, "namespace"), { rootfsDir: join(made.dir, "rootfs") });
  assert.throws(() => templateImage(made.dir, meta, "qemu"), /made by the namespace runtime; this host runs qemu/);
  await assert.rejects(store.create(TEAM, "tpl-1", fill), isCode("already_exists"));

  // A failing fill leaves nothing; a crash's temp and half-deleted dirs are cleaned at start.
  await assert.rejects(
    store.create(TEAM, "tpl-2", async () => {
      throw new Error("runtime failed");
    }),
    /runtime failed/,
  );
  assert.equal(await store.read(TEAM, "tpl-2"), undefined);
  await mkdir(join(root, TEAM, ".tmp-tpl-3-abcd"), { recursive: true });
  await mkdir(join(root, TEAM, ".del-tpl-4-abcd"), { recursive: true });
  assert.deepEqual((await store.cleanupLeftovers()).sort(), [
    join(TEAM, ".del-tpl-4-abcd"),
    join(TEAM, ".tmp-tpl-3-abcd"),
  ]);

  assert.equal(await store.delete(TEAM, "tpl-1"), true);
  assert.equal(await store.delete(TEAM, "tpl-1"), false);
  assert.deepEqual(await readdir(join(root, TEAM)), []);
  for (const bad of ["../x", "", "a/b", ".hidden"]) {
    assert.throws(() => store.dir(TEAM, bad), isCode("invalid_argument"), bad);
    assert.throws(() => store.dir(bad, "tpl"), isCode("invalid_argument"), bad);
  }
});
