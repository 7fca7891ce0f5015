/**
 * PID files of the long-lived processes the agent starts (QEMU, capsule launchers), so an
 * agent started after a crash can end what the crashed one left running. Each file records
 * the PID together with the process start time from /proc: a PID reused by an unrelated
 * process since then has another start time and is never signalled.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "@wrenn/kit";

/** One recorded process. */
export interface PidRecord {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: string;
  /** What it is, for logs ("qemu", "capsule-launcher"). */
  readonly label: string;
}

/** What {@link PidFiles.killLeftovers} found. */
export interface PidLeftover extends PidRecord {
  /** False when the PID was gone or belonged to another process by now. */
  readonly killed: boolean;
}

/** Start time of a live process, or undefined once it is gone (zombies count as gone). */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name, which may hold spaces and parentheses: state is the first.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/** A directory of PID files, `<pid>.json` each. */
export class PidFiles {
  constructor(readonly dir: string) {}

  /**
   * Records a running process; resolves with the function that forgets it (call it once the
   * process has exited). A process already gone is not recorded.
   */
  async record(pid: number, label: string): Promise<() => Promise<void>> {
    const startTime = await processStartTime(pid);
    const file = join(this.dir, `${pid}.json`);
    if (startTime === undefined) return async () => {};
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const rec: PidRecord = { pid, startTime, label };
    await writeFile(file, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
    return async () => {
      // Only our own record: a later process with the same PID may have written it again.
      const now = await readFile(file, "utf8").catch(() => "");
      if (now.includes(`"startTime":"${startTime}"`)) await rm(file, { force: true });
    };
  }

  /**
   * SIGKILLs every recorded process that is still the one recorded, waits until each is dead
   * (gone or a zombie its parent must reap), and removes all records.
   */
  async killLeftovers(timeoutMs = 5000): Promise<PidLeftover[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: PidLeftover[] = [];
    for (const name of names.filter((n) => /^\d+\.json$/.test(n))) {
      const file = join(this.dir, name);
      const rec = parseRecord(await readFile(file, "utf8").catch(() => ""));
      let killed = false;
      if (rec && (await processStartTime(rec.pid)) === rec.startTime) {
        try {
          process.kill(rec.pid, "SIGKILL");
          killed = true;
        } catch {
          // Exited between the check and the kill.
        }
        const deadline = Date.now() + timeoutMs;
        while ((await processStartTime(rec.pid)) === rec.startTime && Date.now() < deadline) await sleep(10);
      }
      if (rec) out.push({ ...rec, killed });
      await rm(file, { force: true });
    }
    return out;
  }
}

function parseRecord(text: string): PidRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<PidRecord>;
    if (typeof v.pid === "number" && Number.isInteger(v.pid) && v.pid > 1 && typeof v.startTime === "string") {
      return { pid: v.pid, startTime: v.startTime, label: typeof v.label === "string" ? v.label : "" };
    }
  } catch {
    // A torn write from a crash: nothing to act on.
  }
  return undefined;
}
