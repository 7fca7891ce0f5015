/**
 * Everything about hosts wired together for the composition root: the host
 * routes (users' and agents'), the registration service and the host
 * monitor, sharing one heartbeat → monitor hook.
 */
import type { Logger } from "@wrenn/kit";
import type { RouteModule } from "../app.js";
import type { AuditSink } from "../audit/audit-sink.js";
import type { JwtCodec } from "../auth/jwt.js";
import type { CapsulesRepo } from "../capsules/capsules.repo.js";
import type { Database } from "../db/database.js";
import type { Authenticator } from "../http/auth.js";
import type { TeamsRepo } from "../teams/teams.repo.js";
import type { HostClientPool } from "./host-client-pool.js";
import { HostMonitor, type HostMonitorOptions } from "./host-monitor.js";
import { createHostRegistrationService, type HostCertificateIssuer } from "./host-registration.service.js";
import { hostRoutes } from "./hosts.routes.js";
import { createHostsService } from "./hosts.service.js";

/** Timing of the host monitor; production uses the defaults, tests shorten them. */
export type HostMonitorTiming = Pick<HostMonitorOptions, "intervalMs" | "staleAfterMs" | "rpcTimeoutMs" | "now">;

/** What {@link createHostsModule} needs. */
export interface HostsModuleDeps {
  readonly db: Database;
  readonly pool: HostClientPool;
  /** The internal CA (`InternalCa.ensure($WRENN_DIR/ca)` in production). */
  readonly ca: HostCertificateIssuer;
  readonly jwt: JwtCodec;
  readonly auth: Authenticator;
  readonly teams: TeamsRepo;
  readonly capsules: CapsulesRepo;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** A capsule stopped being reachable (host down, paused, stopped, host deleted): the proxy forgets it. */
  readonly onCapsuleUnreachable?: (publicId: string) => void;
  readonly monitor?: HostMonitorTiming;
}

/** The host routes and the (not yet started) monitor. */
export interface HostsModule {
  readonly routes: RouteModule;
  /** Start it once the server listens (`monitor.start()`); dispose it on shutdown. */
  readonly monitor: HostMonitor;
}

/** Builds the host routes, services and monitor. */
export function createHostsModule(deps: HostsModuleDeps): HostsModule {
  const monitor = new HostMonitor({
    db: deps.db,
    pool: deps.pool,
    audit: deps.audit,
    log: deps.log.child({ component: "host-monitor" }),
    ...(deps.onCapsuleUnreachable ? { onCapsuleUnreachable: deps.onCapsuleUnreachable } : {}),
    ...deps.monitor,
  });
  const registration = createHostRegistrationService({
    db: deps.db,
    ca: deps.ca,
    jwt: deps.jwt,
    audit: deps.audit,
    log: deps.log,
    // A host back from an outage is reconciled at once, not at the next pass (up to 15 s later).
    onHostBack: (hostId) => void monitor.checkHost(hostId),
  });
  const hosts = createHostsService({
    db: deps.db,
    teams: deps.teams,
    capsules: deps.capsules,
    pool: deps.pool,
    audit: deps.audit,
    log: deps.log,
    ...(deps.onCapsuleUnreachable ? { onCapsuleGone: deps.onCapsuleUnreachable } : {}),
  });
  return { routes: hostRoutes({ auth: deps.auth, hosts, registration }), monitor };
}
