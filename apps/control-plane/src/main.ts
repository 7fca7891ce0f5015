import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Logger } from "@wrenn/kit";
import pino from "pino";
import { createAuditRepo } from "./audit/audit.repo.js";
import { DatabaseAuditSink } from "./audit/db-audit-sink.js";
import { bootstrapFirstStart } from "./bootstrap/first-start.js";
import { ConfigError, loadConfig } from "./config.js";
import { createControlPlane } from "./control-plane.js";
import { openDatabase } from "./db/database.js";
import { migrateUp } from "./db/migrator.js";
import { ControlPlaneTls } from "./hosts/control-plane-tls.js";
import { HostClientPool } from "./hosts/host-client-pool.js";
import { mailerFromConfig } from "./mail/mailer-from-config.js";
import { InternalCa } from "./pki/internal-ca.js";
import { CONTROL_PLANE_VERSION } from "./version.js";

const USAGE = `Usage: node apps/control-plane/dist/main.js [--bootstrap <file>]

Runs the Wrenn control plane: the /v1 API, WebSockets, the sandbox port proxy
({port}-{capsule}.{domain}), /openapi.yaml and /docs, on WRENN_PORT (8080).

Options:
  --bootstrap <file>   on the very first start, create the administrator, a team
                       and an API key and write them to <file> (mode 0600)
  -h, --help           show this help

Configuration is read from the environment: WRENN_PORT, WRENN_LISTEN_HOST,
WRENN_DIR, DATABASE_URL (default: embedded PGlite in $WRENN_DIR/pgdata),
JWT_SECRET (required), WRENN_ENCRYPTION_KEY (required), WRENN_DOMAIN,
WRENN_PUBLIC_URL, OAUTH_REDIRECT_URL, OAUTH_GITHUB_CLIENT_ID/SECRET,
WRENN_MAIL, SMTP_*, WRENN_CA_CERT/WRENN_CA_KEY, LOG_LEVEL. See docs/control-plane.md.
`;

async function main(): Promise<number> {
  const args = parseArgs({
    options: { bootstrap: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (args.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig(process.env);
  const logger = pino({
    level: config.logLevel,
    base: { service: "control-plane" },
    redact: ["req.headers.authorization", 'req.headers["x-api-key"]', 'req.headers["x-host-token"]', "*.password"],
  });
  const log = logger as unknown as Logger;

  await mkdir(config.wrennDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDir });
  const applied = await migrateUp(db);
  if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "database migrated");

  const ca = await InternalCa.ensure(join(config.wrennDir, "ca"));
  const tls = await ControlPlaneTls.start(ca, { logger: log });
  const pool = new HostClientPool({ tls: () => tls.current });
  const audit = new DatabaseAuditSink(createAuditRepo(db), log.child({ component: "audit" }));
  const mailer = mailerFromConfig(config.mail, log.child({ component: "mailer" }));
  const cp = await createControlPlane({ config, db, logger, version: CONTROL_PLANE_VERSION, pool, audit, ca, mailer });

  if (args.values.bootstrap !== undefined) {
    await bootstrapFirstStart({ db, file: args.values.bootstrap, url: config.publicUrl, log });
  }
  await cp.app.listen({ port: config.port, host: config.listenHost });
  cp.hostMonitor.start();
  const metricsLoops = cp.metricsLoops.start();
  const housekeeping = cp.housekeeping.start();
  log.info({ url: config.publicUrl, database: db.kind }, "control plane ready");

  const stopped = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const signal = await stopped;
  log.info({ signal }, "shutting down");
  const deadline = setTimeout(() => {
    log.error({}, "shutdown took longer than 30 s; exiting");
    process.exit(1);
  }, 30_000);
  deadline.unref();
  await cp.app.close();
  await cp.hostMonitor[Symbol.asyncDispose]();
  await metricsLoops[Symbol.asyncDispose]();
  await housekeeping[Symbol.asyncDispose]();
  await cp.mail.drain();
  await audit.flush();
  tls[Symbol.dispose]();
  await pool[Symbol.asyncDispose]();
  await db.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`wrenn control plane: ${err.message}\n`);
    else if (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`wrenn control plane: ${err.message}\n\n${USAGE}`);
    } else
      process.stderr.write(`wrenn control plane: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
