/** Hosts: creation, registration of host agents, tokens, heartbeats, tags (inventory §2.2 "Hosts", §5.15). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { CapsuleId, HostId, TeamId, UserId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateTime, OneTimeToken, SafeName } from "../primitives/strings.js";

/** `regular` hosts are shared by the platform; `byoc` hosts belong to one team. */
export const HostType = Type.Union([Type.Literal("regular"), Type.Literal("byoc")]);

/** Host statuses; the control plane writes `pending`, `online` and `unreachable`. */
export const HostStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("online"),
  Type.Literal("offline"),
  Type.Literal("draining"),
  Type.Literal("unreachable"),
]);

const Label = Type.String({ maxLength: LIMITS.labelMaxLength });

/** A host. Fields the agent has not reported yet are absent. */
export const Host = Type.Object({
  id: HostId,
  type: HostType,
  team_id: Type.Optional(TeamId),
  team_name: Type.Optional(Type.String({ description: "Listed to platform admins." })),
  provider: Type.Optional(annotate(Label, { examples: ["hetzner"] })),
  availability_zone: Type.Optional(annotate(Label, { examples: ["eu-central"] })),
  arch: Type.Optional(Type.String({ examples: ["amd64"] })),
  cpu_cores: Type.Optional(Type.Integer({ minimum: 0 })),
  memory_mb: Type.Optional(Type.Integer({ minimum: 0 })),
  disk_gb: Type.Optional(Type.Integer({ minimum: 0 })),
  address: Type.Optional(Type.String({ description: "Host agent address `ip:port`.", examples: ["10.0.0.5:50051"] })),
  status: HostStatus,
  last_heartbeat_at: Type.Optional(DateTime),
  created_by: Type.Optional(UserId),
  created_at: DateTime,
  updated_at: DateTime,
});

/** `POST /v1/hosts`. `team_id` is required for `byoc`. */
export const CreateHostRequest = Type.Object({
  type: HostType,
  team_id: Type.Optional(TeamId),
  provider: Type.Optional(Label),
  availability_zone: Type.Optional(Label),
});

/** A host and a fresh one-time registration token (valid 1 hour). */
export const HostWithRegistrationToken = Type.Object({
  host: Host,
  registration_token: Type.String({ examples: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"] }),
});

/** `{id}` of the host routes. */
export const HostParams = Type.Object({ id: HostId });

/** `DELETE /v1/hosts/{id}` query. */
export const DeleteHostQuery = Type.Object({
  force: Type.Optional(Type.Boolean({ description: "Destroy the host's capsules first." })),
});

/** `GET /v1/hosts/{id}/delete-preview`: capsules a forced delete would destroy. */
export const HostDeletePreview = Type.Object({ host: Host, sandbox_ids: Type.Array(CapsuleId) });

/** A host tag. */
export const HostTag = annotate(SafeName, { examples: ["gpu"] });

/** `POST /v1/hosts/{id}/tags`. */
export const AddHostTagRequest = Type.Object({ tag: HostTag });

/** `{id}` and `{tag}` of `DELETE /v1/hosts/{id}/tags/{tag}`. */
export const HostTagParams = Type.Object({ id: HostId, tag: HostTag });

/** `host:port` or `[v6]:port` that the control plane dials. */
export const HostAddress = Type.String({
  pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
  maxLength: 261,
  examples: ["10.0.0.5:50051"],
});

/** `POST /v1/hosts/register`: sent once by a host agent with its registration token. */
export const RegisterHostRequest = Type.Object({
  token: OneTimeToken,
  address: HostAddress,
  arch: Type.Optional(Type.String({ maxLength: 32, examples: ["amd64"] })),
  cpu_cores: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_536 })),
  memory_mb: Type.Optional(Type.Integer({ minimum: 0 })),
  disk_gb: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** `POST /v1/hosts/auth/refresh`. */
export const RefreshHostTokenRequest = Type.Object({ refresh_token: OneTimeToken });

/**
 * Credentials of a host agent, from registration or refresh: a host JWT (7
 * days), a rotated refresh token (60 days) and the mTLS material (7 days).
 */
export const HostCredentials = Type.Object({
  host: Host,
  token: Type.String({ description: "Host JWT for the `X-Host-Token` header." }),
  refresh_token: Type.String({ description: "Single use; the previous one is revoked." }),
  cert_pem: Type.String({ description: "The agent's TLS server certificate." }),
  key_pem: Type.String({ description: "Its private key (PKCS#8 PEM)." }),
  ca_cert_pem: Type.String({ description: "The internal CA that signs agent and control-plane certificates." }),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link HostType}. */
export type HostType = Static<typeof HostType>;
/** A value matching {@link HostStatus}. */
export type HostStatus = Static<typeof HostStatus>;
/** A value matching {@link Host}. */
export type Host = Static<typeof Host>;
/** A value matching {@link CreateHostRequest}. */
export type CreateHostRequest = Static<typeof CreateHostRequest>;
/** A value matching {@link HostWithRegistrationToken}. */
export type HostWithRegistrationToken = Static<typeof HostWithRegistrationToken>;
/** A value matching {@link HostParams}. */
export type HostParams = Static<typeof HostParams>;
/** A value matching {@link DeleteHostQuery}. */
export type DeleteHostQuery = Static<typeof DeleteHostQuery>;
/** A value matching {@link HostDeletePreview}. */
export type HostDeletePreview = Static<typeof HostDeletePreview>;
/** A value matching {@link HostTag}. */
export type HostTag = Static<typeof HostTag>;
/** A value matching {@link AddHostTagRequest}. */
export type AddHostTagRequest = Static<typeof AddHostTagRequest>;
/** A value matching {@link HostTagParams}. */
export type HostTagParams = Static<typeof HostTagParams>;
/** A value matching {@link HostAddress}. */
export type HostAddress = Static<typeof HostAddress>;
/** A value matching {@link RegisterHostRequest}. */
export type RegisterHostRequest = Static<typeof RegisterHostRequest>;
/** A value matching {@link RefreshHostTokenRequest}. */
export type RefreshHostTokenRequest = Static<typeof RefreshHostTokenRequest>;
/** A value matching {@link HostCredentials}. */
export type HostCredentials = Static<typeof HostCredentials>;
