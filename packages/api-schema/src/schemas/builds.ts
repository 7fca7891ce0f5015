/** Template builds from recipes (inventory §2.2 "Platform admin", §5.5). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { BuildId, CapsuleId, HostId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateTime, SafeName, StringMap, TemplateName } from "../primitives/strings.js";

/** Build statuses; `success`, `failed` and `cancelled` are final. */
export const BuildStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("running"),
  Type.Literal("success"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
]);

/** One recipe instruction: `RUN`, `START`, `ENV`, `WORKDIR`, `USER` or `COPY` (keyword case-insensitive). */
export const RecipeStep = Type.String({
  minLength: 1,
  maxLength: LIMITS.recipe.stepMaxLength,
  examples: ["RUN apt-get install -y python3"],
});

/**
 * `POST /v1/admin/builds` as JSON. The multipart form of the same route sends
 * this object as the JSON text of a `config` part, plus an optional `archive`
 * part (tar, tar.gz or zip) whose files `COPY` can use.
 */
export const CreateBuildRequest = Type.Object({
  name: annotate(SafeName, { description: "Name of the platform template the build produces." }),
  base_template: Type.Optional(annotate(TemplateName, { default: "minimal" })),
  recipe: Type.Array(RecipeStep, { minItems: 1, maxItems: LIMITS.recipe.maxSteps }),
  healthcheck: Type.Optional(
    Type.String({
      maxLength: LIMITS.healthcheckMaxLength,
      description:
        "`[--interval=3s] [--timeout=10s] [--start-period=0s] [--retries=0] <cmd>`; with one, the build makes a snapshot template.",
    }),
  ),
  vcpus: Type.Optional(Type.Integer({ minimum: LIMITS.vcpus.min, maximum: LIMITS.vcpus.max })),
  memory_mb: Type.Optional(Type.Integer({ minimum: LIMITS.memoryMb.min, maximum: LIMITS.memoryMb.max })),
  skip_pre_post: Type.Optional(
    Type.Boolean({ default: false, description: "Skip the apt update/clean steps around the recipe." }),
  ),
});

/** Text fields of the multipart form of `POST /v1/admin/builds`. */
export const CreateBuildFields = Type.Object({
  config: Type.String({ minLength: 2, maxLength: 16 * 1024 * 1024, description: "CreateBuildRequest as JSON text." }),
});

/** The log of one executed step. */
export const BuildLogEntry = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  phase: Type.String({ examples: ["pre-build", "recipe", "post-build"] }),
  cmd: Type.String(),
  stdout: Type.String(),
  stderr: Type.String(),
  exit: Type.Integer(),
  ok: Type.Boolean(),
  elapsed_ms: Type.Integer({ minimum: 0 }),
});

/** A template build. */
export const Build = Type.Object({
  id: BuildId,
  name: SafeName,
  base_template: TemplateName,
  recipe: Type.Array(Type.String()),
  healthcheck: Type.Optional(Type.String()),
  vcpus: Type.Integer({ minimum: 1 }),
  memory_mb: Type.Integer({ minimum: 1 }),
  status: BuildStatus,
  current_step: Type.Integer({ minimum: 0 }),
  total_steps: Type.Integer({ minimum: 0 }),
  logs: Type.Array(BuildLogEntry),
  error: Type.Optional(Type.String()),
  sandbox_id: Type.Optional(CapsuleId),
  host_id: Type.Optional(HostId),
  default_user: Type.String({ examples: ["root"] }),
  default_env: StringMap,
  created_at: DateTime,
  started_at: Type.Optional(DateTime),
  completed_at: Type.Optional(DateTime),
});

/** `{id}` of the build routes. */
export const BuildParams = Type.Object({ id: BuildId });

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link BuildStatus}. */
export type BuildStatus = Static<typeof BuildStatus>;
/** A value matching {@link RecipeStep}. */
export type RecipeStep = Static<typeof RecipeStep>;
/** A value matching {@link CreateBuildRequest}. */
export type CreateBuildRequest = Static<typeof CreateBuildRequest>;
/** A value matching {@link CreateBuildFields}. */
export type CreateBuildFields = Static<typeof CreateBuildFields>;
/** A value matching {@link BuildLogEntry}. */
export type BuildLogEntry = Static<typeof BuildLogEntry>;
/** A value matching {@link Build}. */
export type Build = Static<typeof Build>;
/** A value matching {@link BuildParams}. */
export type BuildParams = Static<typeof BuildParams>;
