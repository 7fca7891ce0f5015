/** Team API keys (inventory §2.2 "API keys", §5.13). */
import Type, { type Static } from "typebox";
import { ApiKeyId, TeamId, UserId } from "../primitives/ids.js";
import { DateTime, Email } from "../primitives/strings.js";

/** `POST /v1/api-keys`. Without a name the key is called "Unnamed API Key". */
export const CreateApiKeyRequest = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 100, default: "Unnamed API Key", examples: ["ci"] })),
});

/** `{id}` of the API key routes. */
export const ApiKeyParams = Type.Object({ id: ApiKeyId });

const apiKeyFields = {
  id: ApiKeyId,
  team_id: TeamId,
  name: Type.String({ examples: ["ci"] }),
  key_prefix: Type.String({ description: "First 10 characters of the key, for display.", examples: ["wrn_ab12cd"] }),
  created_by: Type.Union([UserId, Type.Literal("")], {
    description: "Who created the key; an empty string once that account is deleted.",
  }),
  created_at: DateTime,
  last_used: Type.Optional(DateTime),
};

/** An API key as listed: the plaintext key is never shown again after creation. */
export const ApiKey = Type.Object({
  ...apiKeyFields,
  creator_email: Type.Optional(Email),
});

/** Answer to a key creation: the only time the plaintext `key` is returned. */
export const CreatedApiKey = Type.Object({
  ...apiKeyFields,
  key: Type.String({
    pattern: "^wrn_[0-9a-f]{32}$",
    description: "The plaintext key (`wrn_` + 32 hex characters); store it now.",
    examples: ["wrn_ab12cd34ef56ab12cd34ef56ab12cd34"],
  }),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link CreateApiKeyRequest}. */
export type CreateApiKeyRequest = Static<typeof CreateApiKeyRequest>;
/** A value matching {@link ApiKeyParams}. */
export type ApiKeyParams = Static<typeof ApiKeyParams>;
/** A value matching {@link ApiKey}. */
export type ApiKey = Static<typeof ApiKey>;
/** A value matching {@link CreatedApiKey}. */
export type CreatedApiKey = Static<typeof CreatedApiKey>;
