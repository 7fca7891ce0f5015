/** Notification channels (inventory §2.2 "Channels", §5.10). */
import Type, { type Static } from "typebox";
import { ChannelId, TeamId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DateTime } from "../primitives/strings.js";

/** Where a channel delivers events. */
export const ChannelProvider = Type.Union([
  Type.Literal("discord"),
  Type.Literal("slack"),
  Type.Literal("teams"),
  Type.Literal("googlechat"),
  Type.Literal("telegram"),
  Type.Literal("matrix"),
  Type.Literal("webhook"),
]);

/** Events a channel can subscribe to. */
export const ChannelEvent = Type.Union([
  Type.Literal("capsule.created"),
  Type.Literal("capsule.running"),
  Type.Literal("capsule.paused"),
  Type.Literal("capsule.destroyed"),
  Type.Literal("template.snapshot.created"),
  Type.Literal("template.snapshot.deleted"),
  Type.Literal("host.up"),
  Type.Literal("host.down"),
]);

/**
 * A channel name as typed by a user. The server trims it, lowercases it and
 * turns spaces into `-`; the result must then satisfy the SafeName rule.
 */
export const ChannelName = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^\\s*[a-zA-Z0-9][a-zA-Z0-9._ -]*\\s*$",
  examples: ["Ops alerts"],
});

/**
 * Provider settings, e.g. `{"webhook_url"}` (Discord, Slack, Teams, Google
 * Chat), `{"bot_token","chat_id"}` (Telegram), `{"homeserver_url",
 * "access_token","room_id"}` (Matrix), `{"url","secret"?}` (webhook). Values
 * are encrypted at rest and never returned.
 */
export const ChannelConfig = Type.Record(
  Type.String(),
  Type.String({ maxLength: LIMITS.channelConfig.valueMaxLength }),
  {
    propertyNames: { pattern: "^[a-z][a-z0-9_]{0,63}$" },
    maxProperties: LIMITS.channelConfig.maxEntries,
    examples: [{ webhook_url: "https://hooks.slack.com/services/T000/B000/XXXX" }],
  },
);

const ChannelEvents = Type.Array(ChannelEvent, { minItems: 1, maxItems: 8, uniqueItems: true });

/** `POST /v1/channels`. */
export const CreateChannelRequest = Type.Object({
  name: ChannelName,
  provider: ChannelProvider,
  config: ChannelConfig,
  events: ChannelEvents,
});

/** `POST /v1/channels/test`: send a `channel.test` event without saving anything. */
export const TestChannelRequest = Type.Object({ provider: ChannelProvider, config: ChannelConfig });

/** Answer of a successful channel test. */
export const TestChannelResponse = Type.Object({ status: Type.Literal("ok") });

/** `PATCH /v1/channels/{id}`. */
export const UpdateChannelRequest = Type.Object({ name: ChannelName, events: ChannelEvents });

/** `PUT /v1/channels/{id}/config`: replace the provider settings (e.g. rotate secrets). */
export const RotateChannelConfigRequest = Type.Object({ config: ChannelConfig });

/** `{id}` of the channel routes. */
export const ChannelParams = Type.Object({ id: ChannelId });

const channelFields = {
  id: ChannelId,
  team_id: TeamId,
  name: Type.String({ examples: ["ops-alerts"] }),
  provider: ChannelProvider,
  events: Type.Array(ChannelEvent),
  created_at: DateTime,
  updated_at: DateTime,
};

/** A channel. Its config is never returned. */
export const Channel = Type.Object(channelFields);

/** Answer of a channel creation: a webhook channel's signing secret is shown this once. */
export const CreatedChannel = Type.Object({
  ...channelFields,
  secret: Type.Optional(Type.String({ description: "Webhook HMAC secret (webhook channels only)." })),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link ChannelProvider}. */
export type ChannelProvider = Static<typeof ChannelProvider>;
/** A value matching {@link ChannelEvent}. */
export type ChannelEvent = Static<typeof ChannelEvent>;
/** A value matching {@link ChannelName}. */
export type ChannelName = Static<typeof ChannelName>;
/** A value matching {@link ChannelConfig}. */
export type ChannelConfig = Static<typeof ChannelConfig>;
/** A value matching {@link CreateChannelRequest}. */
export type CreateChannelRequest = Static<typeof CreateChannelRequest>;
/** A value matching {@link TestChannelRequest}. */
export type TestChannelRequest = Static<typeof TestChannelRequest>;
/** A value matching {@link TestChannelResponse}. */
export type TestChannelResponse = Static<typeof TestChannelResponse>;
/** A value matching {@link UpdateChannelRequest}. */
export type UpdateChannelRequest = Static<typeof UpdateChannelRequest>;
/** A value matching {@link RotateChannelConfigRequest}. */
export type RotateChannelConfigRequest = Static<typeof RotateChannelConfigRequest>;
/** A value matching {@link ChannelParams}. */
export type ChannelParams = Static<typeof ChannelParams>;
/** A value matching {@link Channel}. */
export type Channel = Static<typeof Channel>;
/** A value matching {@link CreatedChannel}. */
export type CreatedChannel = Static<typeof CreatedChannel>;
