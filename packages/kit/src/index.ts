/**
 * @module @wrenn/kit — leaf utilities shared by every Wrenn package.
 */

export { linkedSignal, sleep } from "./abort.js";
export { boundedChunks } from "./bounded-chunks.js";
export { type Clock, ManualClock, systemClock, type TimerHandle } from "./clock.js";
export { AsyncDisposableStore } from "./disposable-store.js";
export { type ErrorCode, PlatformError } from "./errors.js";
export { freePort } from "./free-port.js";
export { type LogEntry, type Logger, MemoryLogger, silentLogger } from "./logger.js";
export { type LoopbackServer, listenOnLoopback } from "./loopback-server.js";
export { processAlive } from "./process-alive.js";
