/**
 * Templates made from capsules (CreateSnapshot, FlattenRootfs), one directory each under
 * `<root>/<team_id>/<template_id>/` holding `template.json` and the runtime's files:
 *
 * | runtime   | kind     | files                                   | a capsule created from it          |
 * |-----------|----------|-----------------------------------------|------------------------------------|
 * | namespace | snapshot | `rootfs/` (merged copy)                 | new overlay on `rootfs/`, envd fresh |
 * | namespace | base     | `rootfs/`                               | same                               |
 * | qemu      | snapshot | `vm.state`, `disk.qcow2` (standalone)   | restores memory: processes go on   |
 * | qemu      | base     | `rootfs.ext4`                           | boots it (pre-booted once, cached) |
 *
 * A template is written into a temp directory and renamed into place, so a crash never
 * leaves a directory that looks complete; `template.json` is written last.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import { treeUsage } from "../images/image-builder.js";
import { removeTreeSafely } from "../images/safe-remove.js";
import type { MaterializedTemplate, RuntimeImage, RuntimeKind, TemplateKind } from "../runtime/runtime.js";

/** The file that marks a complete template. */
export const TEMPLATE_META_FILE = "template.json";

/** `template.json`. */
export interface TemplateMeta extends MaterializedTemplate {
  readonly version: 1;
  readonly kind: TemplateKind;
  /** Only this runtime can start capsules from the template. */
  readonly runtime: RuntimeKind;
  readonly teamId: string;
  readonly templateId: string;
  readonly sourceSandboxId: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  /** The token envd inside a memory snapshot holds (template.json is 0600; the memory file holds it too). */
  readonly envdAccessToken?: string;
}

/** A finished template. */
export interface StoredTemplate {
  readonly dir: string;
  readonly meta: TemplateMeta;
  /** Allocated bytes of the whole directory. */
  readonly sizeBytes: number;
}

// Ids become path segments: UUIDs and other boring ids only.
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function checkId(what: string, id: string): string {
  if (!ID.test(id)) throw new PlatformError("invalid_argument", "INVALID_TEMPLATE_ID", `${what} is not a valid id`);
  return id;
}

/** The templates directory of one agent. */
export class TemplateStore {
  constructor(
    readonly root: string,
    readonly runner: CommandRunner,
  ) {}

  /** Directory of a template (whether or not it exists); `invalid_argument` for unusable ids. */
  dir(teamId: string, templateId: string): string {
    return join(this.root, checkId("team_id", teamId), checkId("template_id", templateId));
  }

  /**
   * Makes a template: `fill` writes the runtime's files into a fresh temp directory and returns
   * the metadata, which is written last before the directory is renamed into place.
   * `already_exists` when the template exists (checked before and at the rename).
   */
  async create(
    teamId: string,
    templateId: string,
    fill: (tmpDir: string) => Promise<Omit<TemplateMeta, "version" | "teamId" | "templateId" | "createdAt">>,
  ): Promise<StoredTemplate> {
    const dir = this.dir(teamId, templateId);
    if (await this.read(teamId, templateId)) throw exists();
    const parent = join(this.root, teamId);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const tmp = join(parent, `.tmp-${templateId}-${randomBytes(4).toString("hex")}`);
    await mkdir(tmp, { mode: 0o700 });
    try {
      const filled = await fill(tmp);
      const meta: TemplateMeta = {
        version: 1,
        teamId,
        templateId,
        createdAt: new Date().toISOString(),
        ...filled,
      };
      await writeFile(join(tmp, TEMPLATE_META_FILE), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
      try {
        await rename(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EEXIST" || code === "ENOTEMPTY") throw exists();
        throw err;
      }
      return { dir, meta, sizeBytes: (await treeUsage(dir)).bytes };
    } catch (err) {
      await removeTreeSafely(tmp, this.runner).catch(() => undefined);
      throw err;
    }
  }

  /** The template's metadata, or undefined when there is no complete template. */
  async read(teamId: string, templateId: string): Promise<TemplateMeta | undefined> {
    const text = await readFile(join(this.dir(teamId, templateId), TEMPLATE_META_FILE), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const meta = JSON.parse(text) as TemplateMeta;
    if (meta.version !== 1) {
      throw new PlatformError("internal", "TEMPLATE_UNREADABLE", "template metadata has an unknown version");
    }
    return meta;
  }

  /** Removes a template; resolves false when there was none. */
  async delete(teamId: string, templateId: string): Promise<boolean> {
    const dir = this.dir(teamId, templateId);
    const exists = await readdir(dir).then(
      () => true,
      () => false,
    );
    if (!exists) return false;
    // Renamed away first: a capsule create racing the delete sees no half-deleted template.
    const doomed = join(this.root, teamId, `.del-${templateId}-${randomBytes(4).toString("hex")}`);
    await rename(dir, doomed);
    await removeTreeSafely(doomed, this.runner);
    return true;
  }

  /** Removes the temp and half-deleted directories a crashed agent left. */
  async cleanupLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    for (const team of await readdir(this.root).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, team)).catch(() => [] as string[])) {
        if (!name.startsWith(".tmp-") && !name.startsWith(".del-")) continue;
        await removeTreeSafely(join(this.root, team, name), this.runner);
        removed.push(join(team, name));
      }
    }
    return removed;
  }
}

/** The image a capsule of `runtime` starts from, for a stored template. */
export function templateImage(dir: string, meta: TemplateMeta, runtime: RuntimeKind): RuntimeImage {
  if (meta.runtime !== runtime) {
    throw new PlatformError(
      "failed_precondition",
      "TEMPLATE_RUNTIME_MISMATCH",
      `the template was made by the ${meta.runtime} runtime; this host runs ${runtime}`,
    );
  }
  const f = meta.files;
  if (f.vmState && f.disk && meta.vm) {
    return {
      rootfsDir: dir,
      vmSnapshot: { ...meta.vm, stateFile: join(dir, f.vmState), disk: join(dir, f.disk) },
      ...(meta.envdAccessToken !== undefined ? { envdAccessToken: meta.envdAccessToken } : {}),
    };
  }
  if (f.rootfsDir) return { rootfsDir: join(dir, f.rootfsDir) };
  if (f.ext4) return { rootfsDir: dir, ext4Path: join(dir, f.ext4) };
  throw new PlatformError("internal", "TEMPLATE_UNREADABLE", "the template holds no usable image");
}

function exists(): PlatformError {
  return new PlatformError("already_exists", "TEMPLATE_EXISTS", "a template with this id exists");
}
