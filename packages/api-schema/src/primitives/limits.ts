/**
 * Numeric limits of the public API, in one place so the schemas, the control
 * plane's services and the documentation agree. Where the reference system
 * had no limit, these are generous bounds that stop abuse (huge bodies,
 * nonsense sizes) without rejecting anything a real client sends.
 */
export const LIMITS = {
  /** vCPUs of a capsule or build. @default 1 */
  vcpus: { min: 1, max: 64, default: 1 },
  /** Memory of a capsule or build in MiB. @default 512 */
  memoryMb: { min: 128, max: 262_144, default: 512 },
  /** Inactivity TTL of a capsule in seconds before it is auto-paused; 0 = never (30 days max). @default 0 */
  capsuleTimeoutSec: { min: 0, max: 2_592_000, default: 0 },
  /** Foreground exec timeout in seconds; 0 means the server default (30 s). @default 30 */
  execTimeoutSec: { min: 0, max: 86_400, default: 30 },
  /** Length of template, snapshot, build, tag and host-tag names (`SafeName`). */
  nameMaxLength: 64,
  /** A user's display name. */
  displayName: { min: 1, max: 100 },
  /** A team's name. */
  teamName: { min: 1, max: 128 },
  /** Passwords: the minimum the reference enforced; the maximum stops hashing huge inputs. */
  password: { min: 8, max: 1024 },
  /** An email address (RFC 5321 path limit). */
  emailMaxLength: 254,
  /** A path inside a capsule (Linux PATH_MAX). */
  pathMaxLength: 4096,
  /** The program of an exec request. */
  cmdMaxLength: 4096,
  /** Arguments of one exec request, and the length of one argument (Linux MAX_ARG_STRLEN). */
  args: { maxItems: 1024, maxLength: 131_072 },
  /** Environment variables of one request: count, name and value length. */
  envs: { maxEntries: 256, nameMaxLength: 256, valueMaxLength: 131_072 },
  /** Recursion depth of a directory listing (0 = the directory itself). @default 1 */
  listDepth: { min: 0, max: 16, default: 1 },
  /** Bytes of a non-streaming upload (`/files/write`) and of a build archive. */
  uploadMaxBytes: 100 * 1024 * 1024,
  /** Terminal size in columns or rows. */
  ptySize: { min: 1, max: 65_535 },
  /** Characters of one base64 PTY input message. */
  ptyInputMaxLength: 1_048_576,
  /** Audit log page size. @default 50 */
  auditLimit: { min: 1, max: 200, default: 50 },
  /** Filter values in one audit query (`resource_type`, `action`). */
  auditFilterMaxItems: 32,
  /** Recipe steps of one build and characters of one step. */
  recipe: { maxSteps: 1000, stepMaxLength: 8192 },
  /** A build's healthcheck command line. */
  healthcheckMaxLength: 4096,
  /** Fields of a notification channel's provider config, and the length of one value. */
  channelConfig: { maxEntries: 16, valueMaxLength: 4096 },
  /** Free-text fields such as host provider or availability zone. */
  labelMaxLength: 128,
  /** One-time tokens (activation, reset, host registration, refresh) as sent by clients. */
  tokenMaxLength: 512,
} as const;
