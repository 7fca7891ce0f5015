/**
 * Team API keys (inventory §2.2 "API keys", §5.13): created by a signed-in
 * user for the team of their JWT, shown in plaintext once, stored as SHA-256.
 *
 * Who may do what (the fix of Appendix B.14, where any member could revoke
 * anyone's key): every member may create keys and revoke the keys they
 * created; owners and admins may revoke any key of the team. Listing shows
 * every key of the team (prefix only) to every member, so members can see
 * what has access to their capsules.
 */
import type { Logger } from "@wrenn/kit";
import type { AuditSink } from "../audit/audit-sink.js";
import { generateApiKey } from "../auth/api-key.js";
import { forbidden, notFound } from "../http/api-error.js";
import { actorOf, type UserPrincipal } from "../http/auth.js";
import { parsePublicId, toPublicId } from "../ids/public-id.js";
import type { ApiKey, ApiKeysRepo, ApiKeyWithCreator } from "./api-keys.repo.js";

/** Name of a key created without one. */
export const DEFAULT_API_KEY_NAME = "Unnamed API Key";

/** What the API key service needs. */
export interface ApiKeyServiceDeps {
  readonly apiKeys: ApiKeysRepo;
  readonly audit: AuditSink;
  readonly log: Logger;
}

/** A key on the wire (never with its plaintext). */
export interface ApiKeyJson {
  readonly id: string;
  readonly team_id: string;
  readonly name: string;
  readonly key_prefix: string;
  /** `usr-…`, or "" once the creator's account is purged. */
  readonly created_by: string;
  readonly created_at: string;
  readonly last_used?: string;
  readonly creator_email?: string;
}

/** The answer to a creation: the only time `key` is shown. */
export interface CreatedApiKeyJson extends ApiKeyJson {
  readonly key: string;
}

function apiKeyJson(key: ApiKey): ApiKeyJson {
  return {
    id: toPublicId("apiKey", key.id),
    team_id: toPublicId("team", key.teamId),
    name: key.name,
    key_prefix: key.keyPrefix,
    created_by: key.createdBy === null ? "" : toPublicId("user", key.createdBy),
    created_at: key.createdAt.toISOString(),
    ...(key.lastUsed === null ? {} : { last_used: key.lastUsed.toISOString() }),
  };
}

function listedJson(key: ApiKeyWithCreator): ApiKeyJson {
  return { ...apiKeyJson(key), ...(key.creatorEmail === "" ? {} : { creator_email: key.creatorEmail }) };
}

/** Create, list and revoke the keys of the caller's team. */
export function createApiKeyService(deps: ApiKeyServiceDeps) {
  function audit(caller: UserPrincipal, keyId: string, change: { action: "create" | "revoke"; name: string }) {
    deps.audit.record({
      teamId: caller.teamId,
      actor: actorOf(caller),
      resourceType: "api_key",
      resourceId: toPublicId("apiKey", keyId),
      action: change.action,
      status: change.action === "create" ? "success" : "warning",
      metadata: { name: change.name },
    });
  }

  return {
    /** Creates a key for the caller's team; a blank or absent name becomes "Unnamed API Key". */
    async create(caller: UserPrincipal, name: string | undefined): Promise<CreatedApiKeyJson> {
      const trimmed = (name ?? "").trim();
      const keyName = trimmed === "" ? DEFAULT_API_KEY_NAME : trimmed;
      const generated = generateApiKey();
      const key = await deps.apiKeys.insert({
        teamId: caller.teamId,
        name: keyName,
        keyHash: generated.hash,
        keyPrefix: generated.prefix,
        createdBy: caller.userId,
      });
      audit(caller, key.id, { action: "create", name: keyName });
      return { ...apiKeyJson(key), key: generated.plaintext };
    },

    /** Every key of the caller's team with its creator's address, newest first. */
    async list(caller: UserPrincipal): Promise<ApiKeyJson[]> {
      return (await deps.apiKeys.listByTeamWithCreator(caller.teamId)).map(listedJson);
    },

    /**
     * Revokes a key of the caller's team. A key of another team, or an id
     * that names no key, is 404; a member revoking someone else's key is 403.
     */
    async revoke(caller: UserPrincipal, keyPublicId: string): Promise<void> {
      const parsed = parsePublicId("apiKey", keyPublicId);
      const key = parsed.ok ? await deps.apiKeys.getForTeam(caller.teamId, parsed.uuid) : undefined;
      if (key === undefined) throw notFound("API key not found");
      const manager = caller.role === "owner" || caller.role === "admin";
      if (!manager && key.createdBy !== caller.userId) {
        throw forbidden("members can revoke only the API keys they created; ask a team admin");
      }
      if (!(await deps.apiKeys.delete(caller.teamId, key.id))) throw notFound("API key not found");
      audit(caller, key.id, { action: "revoke", name: key.name });
    },
  };
}

/** The service {@link createApiKeyService} builds. */
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
