/**
 * True while process `pid` exists: signal 0 checks without signalling. EPERM means it exists but
 * belongs to another user. A reused pid reads as alive, so callers treat "alive" as "leave it".
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
