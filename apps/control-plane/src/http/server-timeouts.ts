/**
 * Timeouts of the control plane's HTTP server (seed fix 11): 10 s to receive
 * request headers (slow-loris), 620 s idle keep-alive (longer than the 600 s
 * upstream timeout of common load balancers, so they close first), and no
 * overall request deadline because streams and WebSockets live long.
 */
export const SERVER_TIMEOUTS = Object.freeze({ headersMs: 10_000, idleMs: 620_000 });
