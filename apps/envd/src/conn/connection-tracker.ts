import type { Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** State of one tracked server connection. */
export interface TrackedConnection {
  readonly socket: Socket;
  /** Requests in flight on the socket (HTTP/1.1: 0 or 1, more with pipelining). */
  active: number;
  /** True when the connection existed at the last /snapshot/prepare. */
  preSnapshot: boolean;
}

/**
 * Tracks every connection of envd's HTTP server across a snapshot boundary.
 *
 * Why: a VM snapshot freezes TCP state. After restore, connections whose peer
 * (the host agent's pooled client) is long gone look alive to the guest and
 * to anything still holding them; in the reference this left envd wedged.
 * So before a snapshot we close idle connections and stop keep-alive (so
 * active ones close once their response ends), and after restore we destroy
 * every connection that existed before the snapshot, while connections opened
 * after the restore (such as the `/init` request announcing it) are kept.
 */
export class ConnectionTracker {
  readonly #connections = new Map<Socket, TrackedConnection>();
  #keepAlive = true;

  /** Starts tracking `server`'s connections. */
  attach(server: Server): void {
    server.on("connection", (socket: Socket) => {
      // Connections accepted between prepare and restore may belong to either
      // side of the freeze; they count as pre-snapshot (keep-alive is off for
      // them, so short requests close on their own anyway).
      const conn: TrackedConnection = { socket, active: 0, preSnapshot: !this.#keepAlive };
      this.#connections.set(socket, conn);
      socket.once("close", () => this.#connections.delete(socket));
    });
  }

  /** Call for each request; marks its socket active until the response closes. */
  onRequest(socket: Socket, res: ServerResponse): void {
    const conn = this.#connections.get(socket);
    if (!this.#keepAlive) res.shouldKeepAlive = false;
    if (!conn) return;
    conn.active++;
    res.once("close", () => {
      conn.active--;
      // A pre-snapshot connection is not reused once its request is done.
      if (!this.#keepAlive && conn.active === 0) socket.destroySoon();
    });
  }

  /** True while keep-alive is switched off for a snapshot. */
  get keepAliveEnabled(): boolean {
    return this.#keepAlive;
  }

  /** Counts for diagnostics and tests. */
  stats(): { total: number; active: number; idle: number; preSnapshot: number } {
    let active = 0;
    let preSnapshot = 0;
    for (const c of this.#connections.values()) {
      if (c.active > 0) active++;
      if (c.preSnapshot) preSnapshot++;
    }
    return { total: this.#connections.size, active, idle: this.#connections.size - active, preSnapshot };
  }

  /**
   * Before a snapshot: mark every current connection as pre-snapshot, close
   * the idle ones now and disable keep-alive so active ones close after their
   * response. Returns how many idle connections were closed.
   */
  prepareForSnapshot(): number {
    this.#keepAlive = false;
    let closed = 0;
    for (const conn of this.#connections.values()) {
      conn.preSnapshot = true;
      if (conn.active === 0) {
        conn.socket.destroy();
        closed++;
      }
    }
    return closed;
  }

  /**
   * After a restore: destroy every connection that existed before the
   * snapshot (except `keep`, the socket carrying the current request, if it
   * is one) and turn keep-alive back on. Returns how many were destroyed.
   */
  restoreAfterSnapshot(keep?: Socket): number {
    let closed = 0;
    for (const conn of this.#connections.values()) {
      if (conn.preSnapshot && conn.socket !== keep) {
        conn.socket.destroy();
        closed++;
      }
    }
    this.#keepAlive = true;
    return closed;
  }
}
