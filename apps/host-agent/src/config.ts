/**
 * The host agent's configuration: the only code that reads environment variables (main.ts
 * hands it `process.env` and the command-line arguments once). Pure, validated, frozen.
 * Flags win over environment variables, which win over defaults.
 */
import { isIP } from "node:net";
import { join } from "node:path";
import { DEFAULT_NET_CONFIG, type NetConfig, validateNetConfig } from "./net/net-config.js";
import { AGENT_USAGE } from "./usage.js";

/** Which runtime runs capsules; `auto` picks the best one this machine supports. */
export type RuntimeChoice = "auto" | "namespace" | "qemu" | "firecracker";
/** pino levels. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** Files of the agent's TLS server (PEM): its certificate, key and the CA its clients must chain to. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The validated configuration. */
export interface AgentConfig {
  /** State root (capsules, templates, PID files, credentials). `WRENN_DIR`, `--wrenn-dir`. @default /var/lib/wrenn */
  readonly wrennDir: string;
  /**
   * Shared, content-addressed caches (guest images, kernels, QEMU template snapshots).
   * `WRENN_CACHE_DIR`, `--cache-dir`. @default the state root
   */
  readonly cacheDir: string;
  /** `WRENN_HOST_LISTEN_ADDR`, `--listen`. @default 127.0.0.1:50051 */
  readonly listen: { readonly host: string; readonly port: number };
  /**
   * Port (on the listen host) of the proxy thread, which serves `/proxy/...` off the RPC event
   * loop; the control plane asks for it at `/proxy-listener`. 0: any free port; undefined
   * (`off`): no thread, `/proxy/...` only on the listen port. `WRENN_HOST_PROXY_PORT`,
   * `--proxy-port`. @default 0
   */
  readonly proxyPort: number | undefined;
  /** `WRENN_RUNTIME`, `--runtime`. @default auto */
  readonly runtime: RuntimeChoice;
  /** Control plane base URL; unset = standalone (no registration, no heartbeat). `WRENN_CP_URL`, `--cp-url`. */
  readonly controlPlaneUrl?: string;
  /** One-time registration token (`--register` only: never from the environment). */
  readonly registerToken?: string;
  /** host:port the control plane reaches this agent on (registration, certificate SAN). `WRENN_HOST_ADDRESS`, `--address`. */
  readonly advertiseAddress?: string;
  /** Explicit TLS material; else the registration's, else plain HTTP. `WRENN_TLS_CERT/KEY/CA`, `--tls-cert/-key/-ca`. */
  readonly tls?: TlsFiles;
  /** Serve plain HTTP on a non-loopback address (trusted networks only). `WRENN_ALLOW_PLAINTEXT=1`, `--allow-plaintext`. */
  readonly allowPlaintext: boolean;
  /** `LOG_LEVEL`, `--log-level`. @default info */
  readonly logLevel: LogLevel;
  /** `WRENN_FIRECRACKER_BIN`. @default firecracker (looked up on PATH) */
  readonly firecrackerBinary: string;
  /**
   * Capsule network slots. `WRENN_NET_PREFIX` (also the cgroup parent: everything the agent
   * creates and cleans up carries it), `WRENN_NET_SUBNET`, `WRENN_NET_FIRST_SLOT`,
   * `WRENN_NET_SLOTS`, `WRENN_NET_POOL`, `WRENN_NET_UPLINKS` (comma list).
   */
  readonly net: NetConfig;
  /**
   * Capsules of the built-in `minimal` template kept launched ahead of time (namespace runtime
   * only), so a matching create claims one instead of launching. 0 disables the pool.
   * `WRENN_WARM_POOL`. @default 2
   */
  readonly warmPool: number;
}

/** What loadConfig found: a configuration, or a request for the usage text. */
export type LoadedConfig =
  | { readonly kind: "run"; readonly config: AgentConfig }
  | { readonly kind: "help"; readonly text: string };

/** Bad configuration; the message names the setting, never its value when it may be secret. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Every environment variable the agent reads. */
export type AgentEnvVar =
  | "WRENN_DIR"
  | "WRENN_CACHE_DIR"
  | "WRENN_HOST_LISTEN_ADDR"
  | "WRENN_HOST_PROXY_PORT"
  | "WRENN_RUNTIME"
  | "WRENN_CP_URL"
  | "WRENN_HOST_ADDRESS"
  | "WRENN_TLS_CERT"
  | "WRENN_TLS_KEY"
  | "WRENN_TLS_CA"
  | "WRENN_ALLOW_PLAINTEXT"
  | "LOG_LEVEL"
  | "WRENN_FIRECRACKER_BIN"
  | "WRENN_NET_PREFIX"
  | "WRENN_NET_SUBNET"
  | "WRENN_NET_FIRST_SLOT"
  | "WRENN_NET_SLOTS"
  | "WRENN_NET_POOL"
  | "WRENN_NET_UPLINKS"
  | "WRENN_WARM_POOL";

/** Flags with a value, and the variable each one overrides. */
const VALUE_FLAGS: Readonly<Record<string, AgentEnvVar | "register">> = {
  "--wrenn-dir": "WRENN_DIR",
  "--cache-dir": "WRENN_CACHE_DIR",
  "--listen": "WRENN_HOST_LISTEN_ADDR",
  "--proxy-port": "WRENN_HOST_PROXY_PORT",
  "--runtime": "WRENN_RUNTIME",
  "--cp-url": "WRENN_CP_URL",
  "--address": "WRENN_HOST_ADDRESS",
  "--tls-cert": "WRENN_TLS_CERT",
  "--tls-key": "WRENN_TLS_KEY",
  "--tls-ca": "WRENN_TLS_CA",
  "--log-level": "LOG_LEVEL",
  "--register": "register",
};

const RUNTIMES: readonly RuntimeChoice[] = ["auto", "namespace", "qemu", "firecracker"];
const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Parses `host:port` (IPv6 in brackets); `what` names the setting in errors. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${what} must be host:port (e.g. 127.0.0.1:50051)`);
  }
  if (m[1] !== undefined && isIP(host) !== 6) throw new ConfigError(`${what} has an invalid IPv6 address`);
  return { host, port };
}

/** `off` → undefined, else a port 0–65535 other than the listen port. */
function parseProxyPort(value: string, listenPort: number): number | undefined {
  if (value === "off") return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new ConfigError("the proxy port must be 0-65535 or off");
  if (port === listenPort) throw new ConfigError("the proxy port must differ from the listen port");
  return port;
}

function parseArgv(argv: readonly string[]): { values: Map<string, string>; flags: Set<string> } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h" || arg === "--allow-plaintext") {
      flags.add(arg === "-h" ? "--help" : arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(name in VALUE_FLAGS)) throw new ConfigError(`unknown option ${JSON.stringify(name.slice(0, 40))}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new ConfigError(`${name} needs a value`);
    values.set(name, value);
  }
  return { values, flags };
}

function intSetting(raw: string | undefined, fallback: number, what: string, min: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`${what} must be an integer ≥ ${min}`);
  return n;
}

function absolutePath(value: string, what: string): string {
  if (!value.startsWith("/")) throw new ConfigError(`${what} must be an absolute path`);
  return value.replace(/\/+$/, "") || "/";
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the configuration from `env` and `argv` (the arguments after the script name).
 * Throws ConfigError for anything unusable; `--help` returns the usage text instead.
 */
export function loadConfig(env: Readonly<Partial<Record<string, string>>>, argv: readonly string[]): LoadedConfig {
  const { values, flags } = parseArgv(argv);
  if (flags.has("--help")) return { kind: "help", text: AGENT_USAGE };
  const get = (name: AgentEnvVar): string | undefined => {
    const flag = Object.keys(VALUE_FLAGS).find((f) => VALUE_FLAGS[f] === name);
    const v = (flag !== undefined ? values.get(flag) : undefined) ?? env[name];
    return v === "" ? undefined : v;
  };

  const wrennDir = absolutePath(get("WRENN_DIR") ?? "/var/lib/wrenn", "WRENN_DIR");
  const cacheDir = absolutePath(get("WRENN_CACHE_DIR") ?? wrennDir, "WRENN_CACHE_DIR");
  const listen = parseHostPort(get("WRENN_HOST_LISTEN_ADDR") ?? "127.0.0.1:50051", "the listen address");
  const proxyPort = parseProxyPort(get("WRENN_HOST_PROXY_PORT") ?? "0", listen.port);

  const runtime = (get("WRENN_RUNTIME") ?? "auto") as RuntimeChoice;
  if (!RUNTIMES.includes(runtime)) throw new ConfigError(`runtime must be one of ${RUNTIMES.join(", ")}`);
  const logLevel = (get("LOG_LEVEL") ?? "info") as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`log level must be one of ${LEVELS.join(", ")}`);

  const cpUrl = get("WRENN_CP_URL");
  let controlPlaneUrl: string | undefined;
  if (cpUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(cpUrl);
    } catch {
      throw new ConfigError("the control plane URL is not a valid URL");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new ConfigError("the control plane URL must be http(s)");
    if (u.username || u.password) throw new ConfigError("the control plane URL must not carry credentials");
    controlPlaneUrl = u.href.replace(/\/+$/, "");
  }

  const registerToken = values.get("--register");
  if (registerToken !== undefined && !/^[A-Za-z0-9_-]{8,256}$/.test(registerToken)) {
    throw new ConfigError("--register needs the registration token the control plane issued");
  }
  const advertiseAddress = get("WRENN_HOST_ADDRESS");
  if (advertiseAddress !== undefined) parseHostPort(advertiseAddress, "--address");
  if (registerToken !== undefined) {
    if (controlPlaneUrl === undefined)
      throw new ConfigError("--register needs the control plane URL (WRENN_CP_URL or --cp-url)");
    if (advertiseAddress === undefined)
      throw new ConfigError("--register needs --address <host:port> (how the control plane reaches this host)");
  }

  const tlsParts = [get("WRENN_TLS_CERT"), get("WRENN_TLS_KEY"), get("WRENN_TLS_CA")];
  let tls: TlsFiles | undefined;
  if (tlsParts.some((p) => p !== undefined)) {
    const [cert, key, ca] = tlsParts;
    if (cert === undefined || key === undefined || ca === undefined) {
      throw new ConfigError("TLS needs all three of WRENN_TLS_CERT, WRENN_TLS_KEY and WRENN_TLS_CA");
    }
    tls = {
      certFile: absolutePath(cert, "WRENN_TLS_CERT"),
      keyFile: absolutePath(key, "WRENN_TLS_KEY"),
      caFile: absolutePath(ca, "WRENN_TLS_CA"),
    };
  }

  const uplinks = (get("WRENN_NET_UPLINKS") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const u of uplinks)
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(u)) throw new ConfigError("WRENN_NET_UPLINKS has an invalid interface name");
  const net: NetConfig = {
    ...DEFAULT_NET_CONFIG,
    prefix: get("WRENN_NET_PREFIX") ?? DEFAULT_NET_CONFIG.prefix,
    subnet: get("WRENN_NET_SUBNET") ?? DEFAULT_NET_CONFIG.subnet,
    firstSlot: intSetting(get("WRENN_NET_FIRST_SLOT"), DEFAULT_NET_CONFIG.firstSlot, "WRENN_NET_FIRST_SLOT", 0),
    slotCount: intSetting(get("WRENN_NET_SLOTS"), DEFAULT_NET_CONFIG.slotCount, "WRENN_NET_SLOTS", 1),
    poolSize: intSetting(get("WRENN_NET_POOL"), DEFAULT_NET_CONFIG.poolSize, "WRENN_NET_POOL", 0),
    ...(uplinks.length > 0 ? { uplinkInterfaces: uplinks } : {}),
  };
  try {
    validateNetConfig(net);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }

  // Each pooled capsule holds a network slot and ~15 MiB while idle: a few, not a fleet.
  const warmPool = intSetting(get("WRENN_WARM_POOL"), 2, "WRENN_WARM_POOL", 0);
  if (warmPool > 64) throw new ConfigError("WRENN_WARM_POOL must be at most 64");

  const config: AgentConfig = {
    wrennDir,
    cacheDir,
    listen,
    proxyPort,
    runtime,
    ...(controlPlaneUrl !== undefined ? { controlPlaneUrl } : {}),
    ...(registerToken !== undefined ? { registerToken } : {}),
    ...(advertiseAddress !== undefined ? { advertiseAddress } : {}),
    ...(tls ? { tls } : {}),
    allowPlaintext: flags.has("--allow-plaintext") || env["WRENN_ALLOW_PLAINTEXT"] === "1",
    logLevel,
    firecrackerBinary: env["WRENN_FIRECRACKER_BIN"] || "firecracker",
    net,
    warmPool,
  };
  return { kind: "run", config: deepFreeze(config) };
}

/** Where the agent keeps its state under `wrennDir`. */
export function agentPaths(config: Pick<AgentConfig, "wrennDir">) {
  const d = config.wrennDir;
  return {
    /** One directory per capsule (overlay layers, VM disks and state, sockets). */
    sandboxes: join(d, "sandboxes"),
    /** Templates made from capsules: `<team>/<template>/`. */
    templates: join(d, "templates"),
    /** PID files of running QEMU and capsule launchers. */
    pids: join(d, "run", "pids"),
    /** Registration result (0600). */
    credentials: join(d, "host-credentials.json"),
  } as const;
}
