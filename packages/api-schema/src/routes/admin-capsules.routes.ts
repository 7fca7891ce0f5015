/**
 * Platform capsules: the admin API repeats a subset of the team capsule
 * routes under `/v1/admin/capsules`, running the same handlers on the
 * platform team's capsules (no ping, pause, resume or streaming files there,
 * as in the reference).
 */
import Type from "typebox";
import { AdminSnapshotRequest } from "../schemas/admin.js";
import { Capsule, CapsuleParams, CreateCapsuleRequest } from "../schemas/capsules.js";
import { Template } from "../schemas/snapshots.js";
import { capsuleDefinitions } from "./capsules.routes.js";
import { fileDefinitions } from "./files.routes.js";
import { type ApiTag, type AuthKind, defineRoutes, type RouteDefinition } from "./route.js";

type AdminVariant<TDefinition extends RouteDefinition> = Omit<TDefinition, "url" | "auth" | "tags" | "platformTeam"> & {
  readonly url: string;
  readonly auth: AuthKind;
  readonly tags: readonly ApiTag[];
  readonly platformTeam: true;
};

/** The platform-team version of a team capsule route: admin auth, `/v1/admin/…` URL, same schemas. */
function asAdmin<TDefinition extends RouteDefinition>(definition: TDefinition): AdminVariant<TDefinition> {
  return {
    ...definition,
    url: definition.url.replace(/^\/v1\//, "/v1/admin/"),
    auth: definition.websocket ? "admin_ws" : "admin",
    tags: ["admin", ...definition.tags],
    platformTeam: true,
  };
}

/** Admin routes of platform capsules. */
export const adminCapsuleRoutes = defineRoutes({
  adminCreateCapsule: {
    method: "POST",
    url: "/v1/admin/capsules",
    auth: "admin",
    tags: ["admin", "capsules"],
    summary: "Create a capsule in the platform team (from platform templates)",
    schema: { body: CreateCapsuleRequest, response: { 201: Capsule } },
    platformTeam: true,
    errors: [404, 502, 503],
  },
  adminListCapsules: {
    method: "GET",
    url: "/v1/admin/capsules",
    auth: "admin",
    tags: ["admin", "capsules"],
    summary: "The platform team's capsules",
    schema: { response: { 200: Type.Array(Capsule) } },
    platformTeam: true,
  },
  adminGetCapsule: asAdmin(capsuleDefinitions.getCapsule),
  adminDestroyCapsule: asAdmin(capsuleDefinitions.destroyCapsule),
  adminSnapshotCapsule: {
    method: "POST",
    url: "/v1/admin/capsules/:id/snapshot",
    auth: "admin",
    tags: ["admin", "capsules"],
    summary: "Snapshot a platform capsule into a platform template, then destroy it",
    description: "An existing platform template of the same name is replaced.",
    schema: { params: CapsuleParams, body: AdminSnapshotRequest, response: { 201: Template } },
    platformTeam: true,
    errors: [404, 409, 502, 503],
  },
  adminExecCommand: asAdmin(capsuleDefinitions.execCommand),
  adminGetCapsuleMetrics: asAdmin(capsuleDefinitions.getCapsuleMetrics),
  adminListProcesses: asAdmin(capsuleDefinitions.listProcesses),
  adminKillProcess: asAdmin(capsuleDefinitions.killProcess),
  adminExecStream: asAdmin(capsuleDefinitions.execStream),
  adminPtySession: asAdmin(capsuleDefinitions.ptySession),
  adminConnectProcess: asAdmin(capsuleDefinitions.connectProcess),
  adminUploadFile: asAdmin(fileDefinitions.uploadFile),
  adminDownloadFile: asAdmin(fileDefinitions.downloadFile),
  adminListDir: asAdmin(fileDefinitions.listDir),
  adminMakeDir: asAdmin(fileDefinitions.makeDir),
  adminRemovePath: asAdmin(fileDefinitions.removePath),
});
