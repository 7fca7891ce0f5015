/**
 * Which image a CreateSandbox starts from: a template made from a capsule (CreateSnapshot,
 * FlattenRootfs) when one exists for the team and template id, else a built-in template by
 * name (`minimal`, built from Debian packages once and cached by content hash). For the
 * firecracker runtime the image also carries the kernel and initramfs Firecracker boots (the
 * QEMU runtime finds its kernel itself; Firecracker's API wants the paths in its boot source).
 */
import { type Logger, PlatformError, silentLogger } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import { type BuiltImage, buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE, TEMPLATES } from "../images/template.js";
import { ZERO_UUID } from "../rpc/context.js";
import { ensureFirecrackerKernel, type FirecrackerKernel } from "../runtime/firecracker/fc-kernel.js";
import type { RuntimeImage, RuntimeKind } from "../runtime/runtime.js";
import { type TemplateStore, templateImage } from "../templates/template-store.js";

/** Options of {@link ImageResolver}. */
export interface ImageResolverOptions {
  /** Cache root: images go to `<cacheDir>/images/<template>/<hash>/`. */
  readonly cacheDir: string;
  readonly runtime: RuntimeKind;
  readonly runner: CommandRunner;
  readonly templates: TemplateStore;
  readonly log?: Logger;
  /**
   * The kernel firecracker images boot. @default ensureFirecrackerKernel on `cacheDir`
   * (extracted once from the cached Debian cloud kernel). Only used for `runtime: "firecracker"`.
   */
  readonly firecrackerKernel?: () => Promise<FirecrackerKernel>;
}

/** Resolves template ids and names to runtime images. */
export class ImageResolver {
  readonly #o: ImageResolverOptions;
  readonly #log: Logger;
  readonly #built = new Map<string, Promise<BuiltImage>>();
  #kernel: Promise<FirecrackerKernel> | undefined;

  constructor(o: ImageResolverOptions) {
    this.#o = o;
    this.#log = o.log ?? silentLogger;
  }

  /** Builds (or finds in the cache) the built-in `minimal` image, so the first create does not wait for it. */
  async prepare(signal?: AbortSignal): Promise<BuiltImage> {
    return this.#builtIn(MINIMAL_TEMPLATE.name, signal);
  }

  #builtIn(name: string, signal?: AbortSignal): Promise<BuiltImage> {
    const template = TEMPLATES[name];
    if (!template) throw new PlatformError("not_found", "TEMPLATE_NOT_FOUND", "no such template on this host");
    let p = this.#built.get(name);
    if (!p) {
      let lastLogged = -1;
      p = buildImage({
        wrennDir: this.#o.cacheDir,
        template,
        sources: defaultImageSources(),
        runner: this.#o.runner,
        // VM runtimes boot an ext4 image of the same tree.
        ext4: this.#o.runtime !== "namespace",
        ...(signal ? { signal } : {}),
        onProgress: (p) => {
          const step = Math.floor(p.percent / 10);
          if (step === lastLogged) return;
          lastLogged = step;
          this.#log.info({ template: name, phase: p.phase, percent: Math.round(p.percent) }, "guest image");
        },
      });
      // A failed build must not stick: the next create tries again.
      p.catch(() => this.#built.delete(name));
      this.#built.set(name, p);
    }
    return p;
  }

  /** The image of `templateId` of `teamId`, else of the built-in template named `templateName`. */
  async resolve(templateId: string, templateName: string, teamId = ZERO_UUID): Promise<RuntimeImage> {
    if (templateId !== "" && templateId !== ZERO_UUID) {
      const store = this.#o.templates;
      const meta = await store.read(teamId || ZERO_UUID, templateId);
      if (meta) return this.#bootable(templateImage(store.dir(teamId || ZERO_UUID, templateId), meta, this.#o.runtime));
    }
    const name = templateName || (templateId === "" || templateId === ZERO_UUID ? MINIMAL_TEMPLATE.name : "");
    if (!TEMPLATES[name]) {
      throw new PlatformError("not_found", "TEMPLATE_NOT_FOUND", "the template is not on this host");
    }
    const image = await this.#builtIn(name);
    return this.#bootable({ rootfsDir: image.rootfs, ...(image.ext4 ? { ext4Path: image.ext4 } : {}) });
  }

  /** Adds Firecracker's kernel and initramfs to a firecracker image that has none of its own. */
  async #bootable(image: RuntimeImage): Promise<RuntimeImage> {
    if (this.#o.runtime !== "firecracker" || image.kernelPath !== undefined) return image;
    if (!this.#kernel) {
      const make =
        this.#o.firecrackerKernel ??
        (() => ensureFirecrackerKernel({ wrennDir: this.#o.cacheDir, runner: this.#o.runner }));
      const p = make();
      // A failed extraction must not stick either.
      p.catch(() => {
        if (this.#kernel === p) this.#kernel = undefined;
      });
      this.#kernel = p;
    }
    const k = await this.#kernel;
    return { ...image, kernelPath: k.kernelPath, initrdPath: k.initrdPath };
  }
}
