/** Registration with the control plane at start (inventory §5.15 step 2) and the heartbeat after. */
import { type Logger, PlatformError } from "@wrenn/kit";
import type { AgentConfig } from "../config.js";
import { ControlPlaneClient } from "../registration/cp-client.js";
import { type HostCredentials, hasTlsMaterial, loadCredentials, saveCredentials } from "../registration/credentials.js";
import { HeartbeatLoop } from "../registration/heartbeat.js";
import { readHostFacts } from "../registration/host-facts.js";
import type { TlsMaterial } from "./agent-server.js";

/** A registered agent's credentials and how to start its heartbeat. */
export interface Registration {
  readonly credentials: HostCredentials;
  /** The server's TLS material from the registration, when the control plane issued it. */
  readonly tls?: TlsMaterial;
  /** Starts heartbeating (at once, then every `intervalMs`). */
  startHeartbeat(o: {
    readonly pauseAll: () => Promise<readonly string[]>;
    /** New certificate after a token refresh; absent when TLS comes from configured files. */
    readonly onTls: ((m: TlsMaterial) => void) | undefined;
    readonly onGone: () => void;
    readonly intervalMs?: number;
  }): HeartbeatLoop;
}

function tlsOf(c: HostCredentials): TlsMaterial | undefined {
  return hasTlsMaterial(c) ? { cert: c.cert_pem, key: c.key_pem, ca: c.ca_cert_pem } : undefined;
}

/**
 * With `--register`: registers and saves the credentials (0600). Without: reuses the saved
 * file. Standalone (no control plane URL): undefined, and nothing heartbeats.
 */
export async function startRegistration(
  config: AgentConfig,
  credentialsPath: string,
  log: Logger,
): Promise<Registration | undefined> {
  if (config.controlPlaneUrl === undefined) {
    log.info({}, "standalone: no control plane configured (WRENN_CP_URL), no registration or heartbeat");
    return undefined;
  }
  const client = new ControlPlaneClient({ baseUrl: config.controlPlaneUrl });
  let credentials: HostCredentials | undefined;
  if (config.registerToken !== undefined) {
    const facts = await readHostFacts(config.wrennDir);
    credentials = await client.register(config.registerToken, facts, config.advertiseAddress ?? "");
    await saveCredentials(credentialsPath, credentials);
    log.info({ hostId: credentials.host_id, ...facts }, "registered with the control plane");
  } else {
    credentials = await loadCredentials(credentialsPath);
    if (!credentials) {
      throw new PlatformError(
        "failed_precondition",
        "NOT_REGISTERED",
        `no ${credentialsPath}: start once with --register <token> --address <host:port>`,
      );
    }
    log.info({ hostId: credentials.host_id }, "using saved host credentials");
  }
  const creds = credentials;
  const tls = tlsOf(creds);
  return {
    credentials: creds,
    ...(tls ? { tls } : {}),
    startHeartbeat(o) {
      const loop = new HeartbeatLoop({
        client,
        credentials: creds,
        credentialsPath,
        pauseAll: o.pauseAll,
        onCredentials: (c) => {
          const m = tlsOf(c);
          if (m && o.onTls) o.onTls(m);
        },
        onGone: o.onGone,
        ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
        log,
      });
      loop.start();
      return loop;
    },
  };
}
