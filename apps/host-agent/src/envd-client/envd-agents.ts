import { Agent } from "node:http";

/** Pool tuning of the per-capsule envd connection pools (reference: 10 idle per host, 90 s idle). */
export interface EnvdPoolOptions {
  /** Idle keep-alive sockets kept per pool (reference MaxIdleConnsPerHost 10). */
  readonly maxIdleSockets?: number;
  /** Idle sockets are closed after this long (reference IdleConnTimeout 90 s). */
  readonly idleTimeoutMs?: number;
}

/** Sockets an agent holds right now. */
export interface PoolCounts {
  readonly busy: number;
  readonly idle: number;
}

function makeAgent(o: EnvdPoolOptions): Agent {
  return new Agent({
    keepAlive: true,
    // Busy sockets are not capped: every PTY, exec stream or upload holds one for its
    // whole life, and a cap would make the 11th one wait for an unrelated stream to end.
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: o.maxIdleSockets ?? 10,
    // Applies to free sockets only in practice: nothing listens for 'timeout' on busy ones.
    timeout: o.idleTimeoutMs ?? 90_000,
    scheduling: "lifo",
  });
}

function count(agent: Agent): PoolCounts {
  const sum = (m: NodeJS.ReadOnlyDict<unknown[]>): number =>
    Object.values(m).reduce((n: number, s) => n + (s?.length ?? 0), 0);
  return { busy: sum(agent.sockets), idle: sum(agent.freeSockets) };
}

/**
 * The two connection pools of one capsule's envd: `timeout` for short calls and
 * `streaming` for process streams and file transfers. They are separate from each other
 * (a burst of uploads cannot make health checks queue) and from every other transport
 * in the agent (the port proxy, the hostagent RPC server).
 */
export class EnvdAgents {
  readonly timeout: Agent;
  readonly streaming: Agent;

  constructor(options: EnvdPoolOptions = {}) {
    this.timeout = makeAgent(options);
    this.streaming = makeAgent(options);
  }

  /**
   * Destroys every idle pooled socket of both pools, so their FINs reach the guest while
   * envd quiesces for a snapshot; a socket frozen in the snapshot would otherwise be a
   * zombie on both sides after restore. Busy sockets (live streams) are left alone.
   * Returns how many sockets were closed.
   */
  closeIdleConnections(): number {
    let closed = 0;
    for (const agent of [this.timeout, this.streaming]) {
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const s of sockets ?? []) {
          s.destroy();
          closed++;
        }
      }
    }
    return closed;
  }

  /** Socket counts of both pools. */
  counts(): { timeout: PoolCounts; streaming: PoolCounts } {
    return { timeout: count(this.timeout), streaming: count(this.streaming) };
  }

  /** Destroys both pools, busy sockets included (capsule destroyed). */
  destroy(): void {
    this.timeout.destroy();
    this.streaming.destroy();
  }
}
