/** The control plane's version, reported by `/health` and the OpenAPI document. */
export const CONTROL_PLANE_VERSION = "0.1.0";
