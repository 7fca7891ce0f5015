/** Notification channels and the team audit log. */
import Type from "typebox";
import { AuditLogPage, AuditLogQuery } from "../schemas/audit.js";
import {
  Channel,
  ChannelParams,
  CreateChannelRequest,
  CreatedChannel,
  RotateChannelConfigRequest,
  TestChannelRequest,
  TestChannelResponse,
  UpdateChannelRequest,
} from "../schemas/channels.js";
import { defineRoutes } from "./route.js";

const NoContent = Type.Null();

/** Channel routes and `GET /v1/audit-logs`. */
export const channelRoutes = defineRoutes({
  createChannel: {
    method: "POST",
    url: "/v1/channels",
    auth: "jwt",
    tags: ["channels"],
    summary: "Create a notification channel",
    schema: { body: CreateChannelRequest, response: { 201: CreatedChannel } },
    errors: [409],
  },
  listChannels: {
    method: "GET",
    url: "/v1/channels",
    auth: "jwt",
    tags: ["channels"],
    summary: "The team's notification channels",
    schema: { response: { 200: Type.Array(Channel) } },
  },
  testChannel: {
    method: "POST",
    url: "/v1/channels/test",
    auth: "jwt",
    tags: ["channels"],
    summary: "Send a test notification without saving the channel",
    schema: { body: TestChannelRequest, response: { 200: TestChannelResponse } },
    errors: [502],
  },
  getChannel: {
    method: "GET",
    url: "/v1/channels/:id",
    auth: "jwt",
    tags: ["channels"],
    summary: "A notification channel",
    schema: { params: ChannelParams, response: { 200: Channel } },
    errors: [404],
  },
  updateChannel: {
    method: "PATCH",
    url: "/v1/channels/:id",
    auth: "jwt",
    tags: ["channels"],
    summary: "Rename a channel or change its events",
    schema: { params: ChannelParams, body: UpdateChannelRequest, response: { 200: Channel } },
    errors: [404, 409],
  },
  deleteChannel: {
    method: "DELETE",
    url: "/v1/channels/:id",
    auth: "jwt",
    tags: ["channels"],
    summary: "Delete a channel",
    schema: { params: ChannelParams, response: { 204: NoContent } },
    errors: [404],
  },
  rotateChannelConfig: {
    method: "PUT",
    url: "/v1/channels/:id/config",
    auth: "jwt",
    tags: ["channels"],
    summary: "Replace a channel's provider settings (rotate secrets)",
    schema: { params: ChannelParams, body: RotateChannelConfigRequest, response: { 200: Channel } },
    errors: [404],
  },
  listAuditLogs: {
    method: "GET",
    url: "/v1/audit-logs",
    auth: "jwt",
    tags: ["audit"],
    summary: "The team's audit log, newest first (admin-scope entries for owners and admins)",
    schema: { querystring: AuditLogQuery, response: { 200: AuditLogPage } },
  },
});
