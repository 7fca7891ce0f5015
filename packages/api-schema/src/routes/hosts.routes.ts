/** Templates (snapshots) and hosts. */
import Type from "typebox";
import { HasActiveSandboxesErrorBody } from "../error-codes.js";
import {
  AddHostTagRequest,
  CreateHostRequest,
  DeleteHostQuery,
  Host,
  HostCredentials,
  HostDeletePreview,
  HostParams,
  HostTag,
  HostTagParams,
  HostWithRegistrationToken,
  RefreshHostTokenRequest,
  RegisterHostRequest,
} from "../schemas/hosts.js";
import {
  CreateSnapshotQuery,
  CreateSnapshotRequest,
  ListTemplatesQuery,
  Template,
  TemplateParams,
} from "../schemas/snapshots.js";
import { defineRoutes } from "./route.js";

const NoContent = Type.Null();

/** Snapshot (template) routes. */
export const snapshotRoutes = defineRoutes({
  createSnapshot: {
    method: "POST",
    url: "/v1/snapshots",
    auth: "key_or_jwt",
    tags: ["snapshots"],
    summary: "Snapshot a running or paused capsule into a team template",
    schema: { querystring: CreateSnapshotQuery, body: CreateSnapshotRequest, response: { 201: Template } },
    errors: [404, 409, 502, 503],
  },
  listSnapshots: {
    method: "GET",
    url: "/v1/snapshots",
    auth: "key_or_jwt",
    tags: ["snapshots"],
    summary: "Templates the team can use: its own and the platform's",
    schema: { querystring: ListTemplatesQuery, response: { 200: Type.Array(Template) } },
  },
  deleteSnapshot: {
    method: "DELETE",
    url: "/v1/snapshots/:name",
    auth: "key_or_jwt",
    tags: ["snapshots"],
    summary: "Delete a team template (platform templates cannot be)",
    schema: { params: TemplateParams, response: { 204: NoContent } },
    errors: [404],
  },
});

/** Host routes, including the three the host agent itself calls. */
export const hostRoutes = defineRoutes({
  createHost: {
    method: "POST",
    url: "/v1/hosts",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Create a host and a one-time registration token for its agent",
    description: "Regular hosts: platform admins only. BYOC hosts: admins, or the owner or an admin of the team.",
    schema: { body: CreateHostRequest, response: { 201: HostWithRegistrationToken } },
    errors: [404],
  },
  listHosts: {
    method: "GET",
    url: "/v1/hosts",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Hosts: all of them for platform admins, else the team's BYOC hosts",
    schema: { response: { 200: Type.Array(Host) } },
  },
  getHost: {
    method: "GET",
    url: "/v1/hosts/:id",
    auth: "jwt",
    tags: ["hosts"],
    summary: "A host",
    schema: { params: HostParams, response: { 200: Host } },
    errors: [404],
  },
  deleteHost: {
    method: "DELETE",
    url: "/v1/hosts/:id",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Delete a host; with `force=true` its capsules are destroyed first",
    schema: {
      params: HostParams,
      querystring: DeleteHostQuery,
      response: { 204: NoContent, 409: HasActiveSandboxesErrorBody },
    },
    errors: [404],
  },
  getHostDeletePreview: {
    method: "GET",
    url: "/v1/hosts/:id/delete-preview",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Capsules a forced delete of the host would destroy",
    schema: { params: HostParams, response: { 200: HostDeletePreview } },
    errors: [404],
  },
  regenerateHostToken: {
    method: "POST",
    url: "/v1/hosts/:id/token",
    auth: "jwt",
    tags: ["hosts"],
    summary: "A new registration token for a host that is still pending",
    schema: { params: HostParams, response: { 201: HostWithRegistrationToken } },
    errors: [404, 409],
  },
  listHostTags: {
    method: "GET",
    url: "/v1/hosts/:id/tags",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Tags of a host",
    schema: { params: HostParams, response: { 200: Type.Array(HostTag) } },
    errors: [404],
  },
  addHostTag: {
    method: "POST",
    url: "/v1/hosts/:id/tags",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Tag a host",
    schema: { params: HostParams, body: AddHostTagRequest, response: { 204: NoContent } },
    errors: [404],
  },
  removeHostTag: {
    method: "DELETE",
    url: "/v1/hosts/:id/tags/:tag",
    auth: "jwt",
    tags: ["hosts"],
    summary: "Remove a tag from a host",
    schema: { params: HostTagParams, response: { 204: NoContent } },
    errors: [404],
  },
  registerHost: {
    method: "POST",
    url: "/v1/hosts/register",
    auth: "none",
    tags: ["hosts"],
    summary: "Host agent: register with a one-time token, get credentials",
    schema: { body: RegisterHostRequest, response: { 201: HostCredentials } },
    errors: [401, 409],
  },
  refreshHostToken: {
    method: "POST",
    url: "/v1/hosts/auth/refresh",
    auth: "none",
    tags: ["hosts"],
    summary: "Host agent: trade the refresh token for new credentials",
    schema: { body: RefreshHostTokenRequest, response: { 200: HostCredentials } },
    errors: [401],
  },
  hostHeartbeat: {
    method: "POST",
    url: "/v1/hosts/:id/heartbeat",
    auth: "host",
    tags: ["hosts"],
    summary: "Host agent: report liveness (every 30 seconds)",
    schema: { params: HostParams, response: { 204: NoContent } },
    errors: [404],
  },
});
