/** The host agent's port proxy: `/proxy/{sandboxId}/{port}/...` to guest ports. */

export { DEFAULT_DIAL_RETRY, type DialRetryOptions } from "./dial-retry.js";
export { rewriteLocation } from "./location-rewrite.js";
export { type GuestResolver, PortProxy, type PortProxyOptions, type UpstreamTarget } from "./port-proxy.js";
export { parseProxyPath } from "./proxy-path.js";
export { applyProxyServerTimeouts, createProxyServer, PROXY_SERVER_TIMEOUTS } from "./proxy-server.js";
