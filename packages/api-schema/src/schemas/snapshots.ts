/** Templates: base images and snapshots of capsules (inventory §2.2 "Snapshots / templates", §5.4). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { CapsuleId } from "../primitives/ids.js";
import { DateTime, SafeName, StringMap, TemplateName } from "../primitives/strings.js";

/** `base` is a root filesystem only; `snapshot` also holds a paused VM's memory. */
export const TemplateType = Type.Union([Type.Literal("base"), Type.Literal("snapshot")]);

/** A template visible to a team: its own and the platform's. */
export const Template = Type.Object({
  name: TemplateName,
  type: TemplateType,
  vcpus: Type.Optional(Type.Integer({ minimum: 1 })),
  memory_mb: Type.Optional(Type.Integer({ minimum: 1 })),
  size_bytes: Type.Integer({ minimum: 0 }),
  created_at: DateTime,
  platform: Type.Boolean({ description: "True for platform templates shared by every team." }),
  metadata: Type.Optional(StringMap),
});

/** `POST /v1/snapshots`: snapshot a running or paused capsule into a template. */
export const CreateSnapshotRequest = Type.Object({
  sandbox_id: CapsuleId,
  name: Type.Optional(annotate(SafeName, { description: "Template name; `template-` + 8 hex if omitted." })),
});

/** `POST /v1/snapshots` query. */
export const CreateSnapshotQuery = Type.Object({
  overwrite: Type.Optional(
    Type.Boolean({ description: "Replace the team's template of the same name instead of answering 409." }),
  ),
});

/** `GET /v1/snapshots` query. */
export const ListTemplatesQuery = Type.Object({ type: Type.Optional(TemplateType) });

/** `{name}` of the template routes. */
export const TemplateParams = Type.Object({ name: TemplateName });

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link TemplateType}. */
export type TemplateType = Static<typeof TemplateType>;
/** A value matching {@link Template}. */
export type Template = Static<typeof Template>;
/** A value matching {@link CreateSnapshotRequest}. */
export type CreateSnapshotRequest = Static<typeof CreateSnapshotRequest>;
/** A value matching {@link CreateSnapshotQuery}. */
export type CreateSnapshotQuery = Static<typeof CreateSnapshotQuery>;
/** A value matching {@link ListTemplatesQuery}. */
export type ListTemplatesQuery = Static<typeof ListTemplatesQuery>;
/** A value matching {@link TemplateParams}. */
export type TemplateParams = Static<typeof TemplateParams>;
