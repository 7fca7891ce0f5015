import { type AuditLogEntry, type AuditLogPage, type AuditLogQuery, apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import { invalidRequest } from "../http/api-error.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";
import { PLATFORM_TEAM_ID, parsePublicId, toPublicId } from "../ids/public-id.js";
import type { AuditLog, AuditRepo, AuditScope } from "./audit.repo.js";

/**
 * `GET /v1/audit-logs` (user token; the team of the token: `team` entries
 * for members, `team` and `admin` entries for owners and admins) and `GET
 * /v1/admin/audit-logs` (platform admins: the platform team's entries, both
 * scopes). Newest first, keyset-paged with a microsecond cursor.
 */
export function auditRoutes(deps: { readonly auth: Authenticator; readonly audit: AuditRepo }): RouteModule {
  const { auth, audit } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.listAuditLogs, auth),
      handler: async (req) => {
        const user = userOf(req);
        const scopes: AuditScope[] = user.role === "member" ? ["team"] : ["team", "admin"];
        return page(audit, user.teamId, scopes, req.query);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.adminListAuditLogs, auth),
      handler: async (req) => page(audit, PLATFORM_TEAM_ID, ["team", "admin"], req.query),
    });
  };
}

async function page(
  audit: AuditRepo,
  teamId: string,
  scopes: AuditScope[],
  query: AuditLogQuery,
): Promise<AuditLogPage> {
  const result = await audit.list({
    teamId,
    scopes,
    resourceTypes: filterValues(query.resource_type),
    actions: filterValues(query.action),
    ...cursorOf(query),
    limit: query.limit ?? 50,
  });
  return {
    items: result.items.map(toEntry),
    ...(result.next
      ? { next_before: result.next.before, next_before_id: toPublicId("auditLog", result.next.beforeId) }
      : {}),
  };
}

/** Repeated and comma-separated values, flattened; empty pieces dropped. */
function filterValues(values: readonly string[] | undefined): string[] {
  const all = (values ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "");
  return [...new Set(all)];
}

/** `before` and `before_id` come together (both from the previous page) or not at all. */
function cursorOf(query: AuditLogQuery): { cursor?: { before: string; beforeId: string } } {
  if (query.before === undefined && query.before_id === undefined) return {};
  if (query.before === undefined || query.before_id === undefined) {
    throw invalidRequest("before and before_id must be given together (next_before and next_before_id)");
  }
  const id = parsePublicId("auditLog", query.before_id);
  if (!id.ok) throw invalidRequest("before_id is not an audit log id");
  return { cursor: { before: query.before, beforeId: id.uuid } };
}

function toEntry(log: AuditLog): AuditLogEntry {
  return {
    id: toPublicId("auditLog", log.id),
    actor_type: log.actorType,
    ...(log.actorId !== null ? { actor_id: log.actorId } : {}),
    ...(log.actorName !== "" ? { actor_name: log.actorName } : {}),
    resource_type: log.resourceType,
    ...(log.resourceId !== null ? { resource_id: log.resourceId } : {}),
    action: log.action,
    scope: log.scope,
    status: log.status,
    ...(Object.keys(log.metadata).length > 0 ? { metadata: log.metadata } : {}),
    created_at: log.createdAt.toISOString(),
  };
}
