/**
 * @module @wrenn/testing — helpers for tests only.
 */
export { freePort } from "./free-port.js";
