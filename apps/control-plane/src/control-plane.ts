import type { Logger } from "@wrenn/kit";
import type { FastifyBaseLogger } from "fastify";
import { createAccountHousekeeping } from "./accounts/account-housekeeping.js";
import { createAccountServices } from "./accounts/account-services.js";
import { accountRoutes } from "./accounts/accounts.routes.js";
import { createAccountsStore } from "./accounts/accounts-store.js";
import { createMailDispatch } from "./accounts/mail-dispatch.js";
import { createOAuthService } from "./accounts/oauth/oauth.service.js";
import { createUserSearchService } from "./accounts/user-search.service.js";
import { createApiKeysRepo } from "./api-keys/api-keys.repo.js";
import { apiKeyRoutes } from "./api-keys/api-keys.routes.js";
import { createApiKeyService } from "./api-keys/api-keys.service.js";
import { type App, buildApp, type RouteModule } from "./app.js";
import { createAuditRepo } from "./audit/audit.repo.js";
import { auditRoutes } from "./audit/audit.routes.js";
import type { AuditSink } from "./audit/audit-sink.js";
import { JwtCodec } from "./auth/jwt.js";
import { OAuthCookieSigner } from "./auth/oauth-state.js";
import { createCapsuleService } from "./capsules/capsule.service.js";
import { createCapsuleAccess } from "./capsules/capsule-access.js";
import { createCapsuleExecService } from "./capsules/capsule-exec.service.js";
import { createCapsulesRepo } from "./capsules/capsules.repo.js";
import { capsuleRoutes } from "./capsules/capsules.routes.js";
import { EnvdTokens } from "./capsules/envd-token.js";
import { capsuleWsRoutes } from "./capsules/ws/ws.routes.js";
import type { Config } from "./config.js";
import type { Database } from "./db/database.js";
import { fileRoutes } from "./files/files.routes.js";
import { createFilesService } from "./files/files.service.js";
import type { HostClientPool } from "./hosts/host-client-pool.js";
import type { HostMonitor } from "./hosts/host-monitor.js";
import type { HostCertificateIssuer } from "./hosts/host-registration.service.js";
import { createHostsModule, type HostMonitorTiming } from "./hosts/hosts.module.js";
import { createHostsRepo } from "./hosts/hosts.repo.js";
import { createAuthenticator } from "./http/auth.js";
import { parsePublicId } from "./ids/public-id.js";
import type { Mailer } from "./mail/mailer.js";
import { createMetricPointsRepo } from "./metrics/metric-points.repo.js";
import { createMetricsRepo } from "./metrics/metrics.repo.js";
import { metricsRoutes } from "./metrics/metrics.routes.js";
import { createCapsuleMetricsService } from "./metrics/metrics.service.js";
import { createMetricsLoops, type MetricsLoops } from "./metrics/metrics-loops.js";
import { createStatsService } from "./metrics/stats.service.js";
import { createUsageRepo } from "./metrics/usage.repo.js";
import { SandboxProxy } from "./proxy/sandbox-proxy.js";
import { snapshotRoutes } from "./snapshots/snapshots.routes.js";
import { createSnapshotService } from "./snapshots/snapshots.service.js";
import { createTeamsRepo } from "./teams/teams.repo.js";
import { teamRoutes } from "./teams/teams.routes.js";
import { createTeamService } from "./teams/teams.service.js";
import { createTemplatesRepo } from "./templates/templates.repo.js";
import { createUsersRepo } from "./users/users.repo.js";
import { userRoutes } from "./users/users.routes.js";

/** What {@link createControlPlane} is built from; `main.ts` makes the real ones, tests their own. */
export interface ControlPlaneDeps {
  readonly config: Pick<Config, "jwtSecret" | "domain" | "publicUrl" | "dashboardUrl" | "github">;
  /** Transactional email (`mailerFromConfig(config.mail)` in production). */
  readonly mailer: Mailer;
  readonly db: Database;
  /** Fastify's logger (pino); services get children of it. */
  readonly logger: FastifyBaseLogger;
  readonly version: string;
  readonly pool: HostClientPool;
  readonly audit: AuditSink;
  // ---- hosts (issue 4 point 5) ----
  /** The internal CA: agents' certificates at registration and refresh (`InternalCa.ensure($WRENN_DIR/ca)`). */
  readonly ca: HostCertificateIssuer;
  /** Host monitor timing. @default 15 s passes, 90 s heartbeat limit */
  readonly hostMonitor?: HostMonitorTiming;
}

/** The control plane's HTTP app and the parts tests and `main.ts` reach into. */
export interface ControlPlane {
  readonly app: App;
  readonly jwt: JwtCodec;
  readonly proxy: SandboxProxy;
  /** Each capsule's envd access token (what a client presents to envd through the port proxy). */
  readonly envdTokens: EnvdTokens;
  /** Purges soft-deleted accounts after 15 days and prunes expired tokens; `main.ts` starts it. */
  readonly housekeeping: ReturnType<typeof createAccountHousekeeping>;
  /** Mail sends in flight; drained on shutdown. */
  readonly mail: ReturnType<typeof createMailDispatch>;
  /** Not started: `main.ts` (or a test) calls `start()` once listening and disposes it on shutdown. */
  readonly hostMonitor: HostMonitor;
  /** Team metrics sampler (10 s) and usage rollup (1 h); not started: `main.ts` calls `start()`. */
  readonly metricsLoops: MetricsLoops;
}

/**
 * Wires repositories, services and route modules into one app (the
 * composition root shared by `main.ts` and the end-to-end tests). It does not
 * listen and owns none of its dependencies' lifetimes.
 */
export async function createControlPlane(deps: ControlPlaneDeps): Promise<ControlPlane> {
  const { db, pool } = deps;
  const log = deps.logger as unknown as Logger;
  const users = createUsersRepo(db);
  const teams = createTeamsRepo(db);
  const apiKeys = createApiKeysRepo(db);
  const hosts = createHostsRepo(db);
  const templates = createTemplatesRepo(db);
  const capsules = createCapsulesRepo(db);

  const jwt = new JwtCodec({ secret: deps.config.jwtSecret });
  const envdTokens = new EnvdTokens(deps.config.jwtSecret);
  const auth = createAuthenticator({ jwt, users, teams, apiKeys });
  const access = createCapsuleAccess({ capsules, hosts, pool });

  const proxy = new SandboxProxy({
    domain: deps.config.domain,
    lookup: async (publicId) => {
      const parsed = parsePublicId("capsule", publicId);
      return parsed.ok ? capsules.getProxyTarget(parsed.uuid) : undefined;
    },
    agent: () => ({ agent: pool.proxyAgent(), scheme: pool.scheme }),
    log: log.child({ component: "sandbox-proxy" }),
  });

  // ---- metrics, stats, usage, audit log (issue 4): services, hooks; routes below ----
  const capsuleMetrics = createCapsuleMetricsService({
    access,
    points: createMetricPointsRepo(db),
    log: log.child({ component: "capsule-metrics" }),
  });
  const metricsLoops = createMetricsLoops({
    metrics: createMetricsRepo(db),
    usage: createUsageRepo(db),
    log: log.child({ component: "metrics-loops" }),
  });
  // ---- end metrics ----
  const capsuleService = createCapsuleService({
    capsules,
    templates,
    teams,
    hosts,
    access,
    audit: deps.audit,
    log: log.child({ component: "capsules" }),
    onUnreachable: (id) => proxy.cache.evict(id),
    metrics: capsuleMetrics,
    envdTokens,
  });
  const routes: RouteModule[] = [
    capsuleRoutes({ auth, capsules: capsuleService, exec: createCapsuleExecService({ access, capsules }) }),
    fileRoutes({ auth, files: createFilesService({ access }) }),
    snapshotRoutes({
      auth,
      snapshots: createSnapshotService({
        templates,
        capsules,
        hosts,
        access,
        pool,
        audit: deps.audit,
        log: log.child({ component: "snapshots" }),
      }),
    }),
  ];

  // ---- accounts: sign-up, login, OAuth, me, teams, API keys, user search ----
  const store = createAccountsStore(db);
  const mail = createMailDispatch({ mailer: deps.mailer, log: log.child({ component: "mail" }) });
  const teamService = createTeamService({
    store,
    mail,
    audit: deps.audit,
    log: log.child({ component: "teams" }),
    dashboardUrl: deps.config.dashboardUrl,
    destroyTeamCapsules: (teamId) => capsuleService.destroyAllForTeam(teamId),
  });
  const accounts = createAccountServices({
    store,
    jwt,
    mail,
    log: log.child({ component: "accounts" }),
    dashboardUrl: deps.config.dashboardUrl,
    teams: teamService,
  });
  const oauth = createOAuthService({
    store,
    jwt,
    signer: new OAuthCookieSigner(deps.config.jwtSecret),
    log: log.child({ component: "oauth" }),
    publicUrl: deps.config.publicUrl,
    dashboardUrl: deps.config.dashboardUrl,
    github: deps.config.github,
  });
  const housekeeping = createAccountHousekeeping({
    store,
    audit: createAuditRepo(db),
    mail,
    log: log.child({ component: "account-housekeeping" }),
  });
  routes.push(
    accountRoutes({ auth, accounts, oauth }),
    teamRoutes({ auth, teams: teamService }),
    apiKeyRoutes({ auth, apiKeys: createApiKeyService({ apiKeys, audit: deps.audit, log }) }),
    userRoutes({ auth, search: createUserSearchService({ users }) }),
  );

  // ---- hosts: routes, agent registration and heartbeats, host monitor (issue 4 point 5) ----
  const hostsModule = createHostsModule({
    db,
    pool,
    ca: deps.ca,
    jwt,
    auth,
    teams,
    capsules,
    audit: deps.audit,
    log: log.child({ component: "hosts" }),
    onCapsuleUnreachable: (id) => proxy.cache.evict(id),
    ...(deps.hostMonitor ? { monitor: deps.hostMonitor } : {}),
  });
  routes.push(hostsModule.routes);
  // ---- end hosts ----
  // ---- metrics, stats, usage, audit log (issue 4) ----
  routes.push(
    metricsRoutes({
      auth,
      metrics: capsuleMetrics,
      stats: createStatsService({ metrics: createMetricsRepo(db), usage: createUsageRepo(db) }),
    }),
    auditRoutes({ auth, audit: createAuditRepo(db) }),
  );
  // ---- end metrics ----
  const wsRoutes: RouteModule[] = [capsuleWsRoutes({ auth, access, capsules })];
  const { app } = await buildApp({ version: deps.version, logger: deps.logger, routes, wsRoutes, intercept: proxy });
  return { app, jwt, proxy, envdTokens, hostMonitor: hostsModule.monitor, housekeeping, mail, metricsLoops };
}
