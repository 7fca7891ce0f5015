/**
 * The three calls a host agent makes (inventory §5.15 steps 2–4):
 * registration with a one-time token, credential refresh, and heartbeats.
 *
 * Registration and refresh each run in one transaction: the token is spent,
 * the certificate recorded and the new refresh token stored together, so a
 * failure half-way spends nothing (the reference consumed the registration
 * token first and could strand a host, hence its "regenerate token" route).
 */
import { randomBytes } from "node:crypto";
import type { HostCredentials, Static } from "@wrenn/api-schema";
import type { Logger } from "@wrenn/kit";
import type { AuditSink } from "../audit/audit-sink.js";
import type { JwtCodec } from "../auth/jwt.js";
import type { Database, Queryable } from "../db/database.js";
import { forbidden, invalidRequest, invalidState, notFound, unauthorized } from "../http/api-error.js";
import { PLATFORM_TEAM_ID, parsePublicId, toPublicId } from "../ids/public-id.js";
import { subjectAltNameForAddress } from "../pki/host-address.js";
import type { IssuedCertificate } from "../pki/internal-ca.js";
import { createTokensRepo, hashToken } from "../tokens/tokens.repo.js";
import { toHostJson } from "./host-json.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo, type Host } from "./hosts.repo.js";

/** What a host agent receives from registration and refresh. */
export type HostCredentialsJson = Static<typeof HostCredentials>;

/** The part of the internal CA registration uses (`InternalCa` is one). */
export interface HostCertificateIssuer {
  /** The CA certificate agents and the control plane trust, PEM. */
  readonly certPem: string;
  /** A server certificate for the agent of `hostId` (public id) with `address` as its SAN. */
  issueHostCert(host: { readonly hostId: string; readonly address: string }): Promise<IssuedCertificate>;
}

/** What the registration service needs. */
export interface HostRegistrationDeps {
  readonly db: Database;
  readonly ca: HostCertificateIssuer;
  /** Signs host JWTs (7 days by default: the codec's `hostTtlSeconds`). */
  readonly jwt: Pick<JwtCodec, "signHost">;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** Called after a heartbeat brought an unreachable host back online, with its UUID (reconcile it now). */
  readonly onHostBack?: (hostId: string) => void;
  /** Lifetime of refresh tokens. @default 60 days */
  readonly refreshTokenTtlMs?: number;
}

/** `POST /v1/hosts/register` body (validated by the route schema). */
export interface RegisterHostInput {
  readonly token: string;
  readonly address: string;
  readonly arch?: string | undefined;
  readonly cpu_cores?: number | undefined;
  readonly memory_mb?: number | undefined;
  readonly disk_gb?: number | undefined;
}

const DAY_MS = 86_400_000;

/** The service {@link createHostRegistrationService} builds. */
export type HostRegistrationService = ReturnType<typeof createHostRegistrationService>;

/** Builds the registration service. */
export function createHostRegistrationService(deps: HostRegistrationDeps) {
  const refreshTtlMs = deps.refreshTokenTtlMs ?? 60 * DAY_MS;

  /** A new refresh token for `hostId`, stored by hash; the plaintext goes to the agent only. */
  async function newRefreshToken(tx: Queryable, hostId: string): Promise<string> {
    const token = randomBytes(32).toString("hex");
    await createHostTokensRepo(tx).insertRefreshToken({
      hostId,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + refreshTtlMs),
    });
    return token;
  }

  async function credentials(tx: Queryable, host: Host, cert: IssuedCertificate): Promise<HostCredentialsJson> {
    return {
      host: toHostJson(host),
      token: deps.jwt.signHost(toPublicId("host", host.id)),
      refresh_token: await newRefreshToken(tx, host.id),
      cert_pem: cert.certPem,
      key_pem: cert.keyPem,
      ca_cert_pem: deps.ca.certPem,
    };
  }

  return {
    /**
     * Registers a pending host: spends the one-time token, records the
     * machine's facts, address and certificate, marks it online, and returns
     * a host JWT, a refresh token and the agent's TLS material (server
     * certificate with the advertised address as SAN, its key, the CA).
     * 401 for an unknown, used or expired token; 409 when the host is no
     * longer pending (the token is then left as it was).
     */
    async register(input: RegisterHostInput): Promise<HostCredentialsJson> {
      // Checked before anything is spent: a typo in --address must not burn the token.
      try {
        subjectAltNameForAddress(input.address);
      } catch {
        throw invalidRequest("address must be an IP address or DNS name with a port, e.g. 10.0.0.5:50051");
      }
      const result = await deps.db.transaction(async (tx) => {
        const tokens = createTokensRepo(tx);
        const consumed = await tokens.consume("host_registration", input.token);
        if (consumed === undefined) throw unauthorized("invalid or expired registration token");
        const hostId = toPublicId("host", consumed.subjectId);
        const cert = await deps.ca.issueHostCert({ hostId, address: input.address });
        const host = await createHostsRepo(tx).register(consumed.subjectId, {
          arch: input.arch ?? "",
          cpuCores: input.cpu_cores ?? 0,
          memoryMb: input.memory_mb ?? 0,
          diskGb: input.disk_gb ?? 0,
          address: input.address,
          certFingerprint: cert.fingerprint,
          certExpiresAt: cert.notAfter,
        });
        if (host === undefined) throw invalidState("this host is already registered; create a new host instead");
        const recordId = consumed.payload["recordId"];
        if (typeof recordId === "string") await createHostTokensRepo(tx).markRegistrationUsed(recordId);
        // Any other token issued for this host is now pointless.
        await tokens.revokeForSubject("host_registration", host.id);
        return credentials(tx, host, cert);
      });
      deps.log.info({ hostId: result.host.id, address: input.address }, "host registered");
      return result;
    },

    /**
     * Trades a refresh token for new credentials: the token is revoked and a
     * new one issued (single use), with a new JWT and a new certificate for
     * the host's registered address. 401 for an unknown, expired or revoked
     * token, or a deleted host.
     */
    async refresh(refreshToken: string): Promise<HostCredentialsJson> {
      const result = await deps.db.transaction(async (tx) => {
        const spent = await createHostTokensRepo(tx).consumeRefreshToken(hashToken(refreshToken));
        if (spent === undefined) throw unauthorized("invalid, expired or revoked refresh token");
        const hosts = createHostsRepo(tx);
        const host = await hosts.getById(spent.hostId);
        if (host === undefined || host.address === "") throw unauthorized("invalid, expired or revoked refresh token");
        const cert = await deps.ca.issueHostCert({ hostId: toPublicId("host", host.id), address: host.address });
        await hosts.updateCertificate(host.id, cert.fingerprint, cert.notAfter);
        return credentials(tx, (await hosts.getById(host.id)) ?? host, cert);
      });
      deps.log.info({ hostId: result.host.id }, "host credentials refreshed");
      return result;
    },

    /**
     * Records a heartbeat from the host whose JWT carried `tokenHostId`
     * (UUID) for the host in the path. 403 when they differ, 404 when the
     * host was deleted (the agent then removes its credentials and stops).
     * An unreachable host comes back online: audited as `host/marked_up`.
     */
    async heartbeat(tokenHostId: string, pathHostId: string): Promise<void> {
      const parsed = parsePublicId("host", pathHostId);
      if (!parsed.ok) throw notFound("host not found");
      if (parsed.uuid !== tokenHostId) throw forbidden("this host token belongs to another host");
      const beat = await createHostsRepo(deps.db).heartbeat(parsed.uuid);
      if (beat === undefined) throw notFound("host not found");
      if (beat.previousStatus !== "unreachable" || beat.status !== "online") return;
      const host = await createHostsRepo(deps.db).getById(parsed.uuid);
      deps.audit.record({
        // Platform hosts are logged under the platform team (the reference skipped them: B.11).
        teamId: host?.teamId ?? PLATFORM_TEAM_ID,
        actor: { type: "system" },
        resourceType: "host",
        resourceId: pathHostId,
        action: "marked_up",
        status: "success",
      });
      deps.log.info({ hostId: pathHostId }, "host is back online");
      deps.onHostBack?.(parsed.uuid);
    },
  };
}
