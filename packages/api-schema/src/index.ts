/**
 * @module @wrenn/api-schema
 * TypeBox schemas of Wrenn's public REST API (`/v1`), its WebSocket messages,
 * the route catalog the control plane registers and documents, and the
 * catalog of error codes. The control plane validates requests and serialises
 * responses with these schemas; the SDK and CLI take their types from here
 * (`Static<typeof Capsule>` etc.). Wire names are snake_case, as in the
 * reference system, so its clients keep working.
 *
 * Request bodies ignore unknown fields (SDKs may send more than a route
 * reads); limits live in {@link LIMITS}.
 */

export type { Static, TSchema } from "typebox";

// Errors
export {
  ERROR_BODY_ID,
  ERROR_CODES,
  ErrorBody,
  ErrorBodyShared,
  type ErrorCode,
  type ErrorCodeInfo,
  errorStatus,
  HasActiveSandboxesErrorBody,
  isErrorCode,
} from "./error-codes.js";
// Primitives
export { annotate } from "./primitives/annotate.js";
export {
  ApiKeyId,
  AuditLogId,
  BuildId,
  CapsuleId,
  ChannelId,
  exampleId,
  HostId,
  ID_BODY_LENGTH,
  ID_PREFIXES,
  type IdKind,
  publicIdSchema,
  TeamId,
  UserId,
} from "./primitives/ids.js";
export { LIMITS } from "./primitives/limits.js";
export {
  Base64,
  DateOnly,
  DateTime,
  DisplayName,
  Email,
  EnvVars,
  FilePath,
  OneTimeToken,
  Password,
  ProcessSelector,
  ProcessTag,
  SAFE_NAME_PATTERN,
  SafeName,
  StringMap,
  TemplateName,
} from "./primitives/strings.js";
// Route catalog
export {
  type ApiOperationId,
  apiRouteList,
  apiRoutes,
  routeByOperationId,
  sharedSchemas,
} from "./routes/catalog.js";
export { apiTags, openApiRefResolver, openApiTransform, securitySchemes } from "./routes/openapi.js";
export {
  type ApiRoute,
  type ApiRoutes,
  type ApiTag,
  type AuthKind,
  defineRoutes,
  type HttpMethod,
  type MediaSchemas,
  type MultipartBody,
  type MultipartFilePart,
  type OpenApiOperationFields,
  type ResponseSchema,
  type RouteDefinition,
  type RouteSchemas,
  SECURITY_BY_AUTH,
  type WebSocketMessages,
} from "./routes/route.js";
// Resources
export {
  AdminSnapshotRequest,
  AdminTeam,
  AdminTeamPage,
  AdminTemplate,
  AdminUser,
  AdminUserPage,
  AdminUserParams,
  PageQuery,
  SetTeamByocRequest,
  SetUserActiveRequest,
  SetUserAdminRequest,
  UserStatus,
} from "./schemas/admin.js";
export { ApiKey, ApiKeyParams, CreateApiKeyRequest, CreatedApiKey } from "./schemas/api-keys.js";
export {
  AuditActorType,
  AuditLogEntry,
  AuditLogPage,
  AuditLogQuery,
  AuditScope,
  AuditStatus,
} from "./schemas/audit.js";
export {
  ActivateRequest,
  AuthResponse,
  ChangePasswordRequest,
  ConnectProviderResponse,
  DeleteMeRequest,
  LoginRequest,
  MeResponse,
  OAuthCallbackQuery,
  OAuthProviderName,
  OAuthProviderParams,
  OAuthRedirectQuery,
  PasswordResetConfirmRequest,
  PasswordResetRequest,
  SignupRequest,
  SignupResponse,
  SwitchTeamRequest,
  UpdateMeRequest,
} from "./schemas/auth.js";
export {
  Build,
  BuildLogEntry,
  BuildParams,
  BuildStatus,
  CreateBuildFields,
  CreateBuildRequest,
  RecipeStep,
} from "./schemas/builds.js";
export {
  Capsule,
  CapsuleMetrics,
  CapsuleMetricsQuery,
  CapsuleParams,
  CapsuleStats,
  CapsuleStatsQuery,
  CapsuleStatus,
  CapsuleUsage,
  CapsuleUsageQuery,
  CreateCapsuleRequest,
  MetricPoint,
  MetricsRange,
  StatsRange,
} from "./schemas/capsules.js";
export {
  Channel,
  ChannelConfig,
  ChannelEvent,
  ChannelName,
  ChannelParams,
  ChannelProvider,
  CreateChannelRequest,
  CreatedChannel,
  RotateChannelConfigRequest,
  TestChannelRequest,
  TestChannelResponse,
  UpdateChannelRequest,
} from "./schemas/channels.js";
export {
  BackgroundExecResponse,
  Command,
  CommandArgs,
  ExecRequest,
  ExecResponse,
  KillProcessQuery,
  ProcessEntry,
  ProcessList,
  ProcessParams,
} from "./schemas/exec.js";
export {
  BinaryContent,
  FileEntry,
  FileType,
  ListDirRequest,
  ListDirResponse,
  MakeDirResponse,
  PathRequest,
  UploadFields,
} from "./schemas/files.js";
export { HealthResponse } from "./schemas/health.js";
export {
  AddHostTagRequest,
  CreateHostRequest,
  DeleteHostQuery,
  Host,
  HostAddress,
  HostCredentials,
  HostDeletePreview,
  HostParams,
  HostStatus,
  HostTag,
  HostTagParams,
  HostType,
  HostWithRegistrationToken,
  RefreshHostTokenRequest,
  RegisterHostRequest,
} from "./schemas/hosts.js";
export {
  CreateSnapshotQuery,
  CreateSnapshotRequest,
  ListTemplatesQuery,
  Template,
  TemplateParams,
  TemplateType,
} from "./schemas/snapshots.js";
export {
  AddMemberRequest,
  Team,
  TeamDetail,
  TeamMember,
  TeamMemberParams,
  TeamName,
  TeamNameRequest,
  TeamParams,
  TeamRole,
  TeamWithRole,
  UpdateMemberRoleRequest,
  UserSearchQuery,
  UserSearchResult,
} from "./schemas/teams.js";
// WebSocket messages
export {
  ExecStreamClientMessage,
  ExecStreamServerMessage,
  ExecStreamStartMessage,
  ProcessEventMessage,
  ProcessStreamClientMessage,
  ProcessStreamServerMessage,
  PtyClientMessage,
  PtyConnectMessage,
  PtyServerMessage,
  PtyStartMessage,
  WsAuthMessage,
} from "./ws/messages.js";
