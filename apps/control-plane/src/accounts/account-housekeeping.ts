/**
 * Background clean-up of the account data (inventory §5.13, §5.18):
 *
 * - accounts deleted more than `graceDays` ago are purged: their audit trail
 *   is anonymised first (a user whose anonymisation fails is skipped and
 *   retried next run, so no purged user is ever left named in the log), then
 *   the row is removed (memberships and OAuth links cascade; keys and hosts
 *   keep their rows without a creator), then a last email is sent;
 * - expired one-time tokens (activation, reset, host registration) are
 *   deleted (they are already inert; this only reclaims the rows).
 *
 * `runOnce` does one pass; `start` runs it periodically until disposed.
 */
import type { Logger } from "@wrenn/kit";
import type { AuditRepo } from "../audit/audit.repo.js";
import { toPublicId } from "../ids/public-id.js";
import { accountPurgedEmail } from "../mail/templates.js";
import type { AccountsStore } from "./accounts-store.js";
import type { MailDispatch } from "./mail-dispatch.js";

/** What housekeeping needs. */
export interface AccountHousekeepingDeps {
  readonly store: AccountsStore;
  readonly audit: Pick<AuditRepo, "anonymizeUser">;
  readonly mail: MailDispatch;
  readonly log: Logger;
  /** Days a deleted account is kept before the purge. @default 15 */
  readonly graceDays?: number;
}

/** What one pass did. */
export interface HousekeepingReport {
  readonly purgedUsers: number;
  /** Users skipped because a step failed (retried next pass). */
  readonly failedUsers: number;
  readonly expiredTokens: number;
}

/** Options of the periodic loop. */
export interface HousekeepingLoopOptions {
  /** Between passes. @default 24 h (as the reference's daily worker) */
  readonly intervalMs?: number;
  /** Before the first pass. @default 60 s (not at boot, when everything else starts) */
  readonly firstRunDelayMs?: number;
}

/** Account purge and token clean-up. */
export function createAccountHousekeeping(deps: AccountHousekeepingDeps) {
  const graceDays = deps.graceDays ?? 15;

  async function purge(): Promise<{ purged: number; failed: number }> {
    let purged = 0;
    let failed = 0;
    for (const user of await deps.store.users.listExpiredSoftDeleted(graceDays)) {
      try {
        await deps.audit.anonymizeUser(toPublicId("user", user.id));
        if (await deps.store.users.hardDelete(user.id)) {
          purged++;
          deps.mail.send(accountPurgedEmail({ to: user.email, name: user.name }));
        }
      } catch (err) {
        failed++;
        deps.log.error({ err, userId: user.id }, "account purge failed; retrying next pass");
      }
    }
    return { purged, failed };
  }

  const housekeeping = {
    /** One pass: purge expired deleted accounts, then drop expired tokens. */
    async runOnce(): Promise<HousekeepingReport> {
      const { purged, failed } = await purge();
      const expiredTokens = await deps.store.tokens.pruneExpired();
      if (purged > 0 || failed > 0 || expiredTokens > 0) {
        deps.log.info({ purgedUsers: purged, failedUsers: failed, expiredTokens }, "account housekeeping");
      }
      return { purgedUsers: purged, failedUsers: failed, expiredTokens };
    },

    /**
     * Runs {@link runOnce} periodically (never two passes at once; a failed
     * pass is logged). Dispose the result to stop; disposal waits for a pass
     * in progress.
     */
    start(options: HousekeepingLoopOptions = {}): AsyncDisposable {
      const intervalMs = options.intervalMs ?? 24 * 3600_000;
      let running: Promise<void> | undefined;
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const schedule = (delay: number) => {
        if (stopped) return;
        timer = setTimeout(() => {
          running = housekeeping
            .runOnce()
            .then(() => undefined)
            .catch((err: unknown) => deps.log.error({ err }, "account housekeeping pass failed"))
            .finally(() => {
              running = undefined;
              schedule(intervalMs);
            });
        }, delay);
        // A housekeeping timer alone must not keep the process alive.
        timer.unref();
      };
      schedule(options.firstRunDelayMs ?? 60_000);
      return {
        async [Symbol.asyncDispose]() {
          stopped = true;
          clearTimeout(timer);
          await running;
        },
      };
    },
  };
  return housekeeping;
}

/** What {@link createAccountHousekeeping} returns. */
export type AccountHousekeeping = ReturnType<typeof createAccountHousekeeping>;
