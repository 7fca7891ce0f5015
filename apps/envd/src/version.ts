/**
 * The envd protocol version envd reports. The e2b SDK gates features on it:
 * 0.3.0 stdin control, 0.4.0 default user, 0.5.2 closeStdin, 0.5.7
 * octet-stream upload, 0.6.2 file metadata, 0.6.3 entry info in watch
 * events, 0.6.4 network-mount watching. Raise it only with the feature.
 */
export const ENVD_VERSION = "0.6.4";
