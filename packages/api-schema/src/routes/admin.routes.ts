/** Platform administration: teams, users, audit, templates and builds (ADMIN). */
import Type from "typebox";
import { LIMITS } from "../primitives/limits.js";
import {
  AdminTeamPage,
  AdminTemplate,
  AdminUserPage,
  AdminUserParams,
  PageQuery,
  SetTeamByocRequest,
  SetUserActiveRequest,
  SetUserAdminRequest,
} from "../schemas/admin.js";
import { AuditLogPage, AuditLogQuery } from "../schemas/audit.js";
import { Build, BuildParams, CreateBuildFields, CreateBuildRequest } from "../schemas/builds.js";
import { TemplateParams } from "../schemas/snapshots.js";
import { TeamParams } from "../schemas/teams.js";
import { defineRoutes } from "./route.js";

const NoContent = Type.Null();

/** Admin routes other than the platform capsules. */
export const adminRoutes = defineRoutes({
  adminListTeams: {
    method: "GET",
    url: "/v1/admin/teams",
    auth: "admin",
    tags: ["admin"],
    summary: "All teams, 100 a page, deleted ones last",
    schema: { querystring: PageQuery, response: { 200: AdminTeamPage } },
  },
  adminSetTeamByoc: {
    method: "PUT",
    url: "/v1/admin/teams/:id/byoc",
    auth: "admin",
    tags: ["admin"],
    summary: "Enable BYOC hosts for a team (cannot be disabled)",
    schema: { params: TeamParams, body: SetTeamByocRequest, response: { 204: NoContent } },
    errors: [404],
  },
  adminDeleteTeam: {
    method: "DELETE",
    url: "/v1/admin/teams/:id",
    auth: "admin",
    tags: ["admin"],
    summary: "Delete a team and destroy its capsules",
    schema: { params: TeamParams, response: { 204: NoContent } },
    errors: [404],
  },
  adminListUsers: {
    method: "GET",
    url: "/v1/admin/users",
    auth: "admin",
    tags: ["admin"],
    summary: "All accounts that are not deleted, 100 a page",
    schema: { querystring: PageQuery, response: { 200: AdminUserPage } },
  },
  adminSetUserActive: {
    method: "PUT",
    url: "/v1/admin/users/:id/active",
    auth: "admin",
    tags: ["admin"],
    summary: "Enable or disable an account (not one's own)",
    schema: { params: AdminUserParams, body: SetUserActiveRequest, response: { 204: NoContent } },
    errors: [404],
  },
  adminSetUserAdmin: {
    method: "PUT",
    url: "/v1/admin/users/:id/admin",
    auth: "admin",
    tags: ["admin"],
    summary: "Grant or revoke platform admin rights (never the last admin's)",
    schema: { params: AdminUserParams, body: SetUserAdminRequest, response: { 204: NoContent } },
    errors: [404],
  },
  adminListAuditLogs: {
    method: "GET",
    url: "/v1/admin/audit-logs",
    auth: "admin",
    tags: ["admin", "audit"],
    summary: "The platform audit log (admin actions and platform capsules)",
    schema: { querystring: AuditLogQuery, response: { 200: AuditLogPage } },
  },
  adminListTemplates: {
    method: "GET",
    url: "/v1/admin/templates",
    auth: "admin",
    tags: ["admin"],
    summary: "Templates of every team",
    schema: { response: { 200: Type.Array(AdminTemplate) } },
  },
  adminDeleteTemplate: {
    method: "DELETE",
    url: "/v1/admin/templates/:name",
    auth: "admin",
    tags: ["admin"],
    summary: "Delete a platform template (not `minimal`)",
    schema: { params: TemplateParams, response: { 204: NoContent } },
    errors: [404],
  },
  adminCreateBuild: {
    method: "POST",
    url: "/v1/admin/builds",
    auth: "admin",
    tags: ["admin", "builds"],
    summary: "Queue a template build from a recipe (JSON, or multipart with a file archive)",
    schema: {
      body: { content: { "application/json": { schema: CreateBuildRequest } } },
      response: { 201: Build },
    },
    multipart: {
      fields: CreateBuildFields,
      files: [
        {
          name: "archive",
          required: false,
          maxBytes: LIMITS.uploadMaxBytes,
          description: "tar, tar.gz or zip of files for `COPY`.",
        },
      ],
      fieldsFirst: false,
    },
    errors: [404],
  },
  adminListBuilds: {
    method: "GET",
    url: "/v1/admin/builds",
    auth: "admin",
    tags: ["admin", "builds"],
    summary: "All builds, newest first",
    schema: { response: { 200: Type.Array(Build) } },
  },
  adminGetBuild: {
    method: "GET",
    url: "/v1/admin/builds/:id",
    auth: "admin",
    tags: ["admin", "builds"],
    summary: "A build with its step logs",
    schema: { params: BuildParams, response: { 200: Build } },
    errors: [404],
  },
  adminCancelBuild: {
    method: "POST",
    url: "/v1/admin/builds/:id/cancel",
    auth: "admin",
    tags: ["admin", "builds"],
    summary: "Cancel a pending or running build",
    schema: { params: BuildParams, response: { 204: NoContent } },
    errors: [404, 409],
  },
});
