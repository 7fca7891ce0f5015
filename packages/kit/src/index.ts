/**
 * @module @wrenn/kit — leaf utilities shared by every Wrenn package.
 */
export { type ErrorCode, PlatformError } from "./errors.js";
export { type LogEntry, type Logger, MemoryLogger, silentLogger } from "./logger.js";
export { AsyncDisposableStore } from "./disposable-store.js";
export { linkedSignal, sleep } from "./abort.js";
