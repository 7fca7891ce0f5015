/** Files inside a capsule: small and streaming upload/download, list, mkdir, remove. */
import Type from "typebox";
import { LIMITS } from "../primitives/limits.js";
import { CapsuleParams } from "../schemas/capsules.js";
import {
  BinaryContent,
  ListDirRequest,
  ListDirResponse,
  MakeDirResponse,
  PathRequest,
  UploadFields,
} from "../schemas/files.js";
import { defineRoutes, type RouteDefinition } from "./route.js";

const NoContent = Type.Null();
const FileBytes = { content: { "application/octet-stream": { schema: BinaryContent } } } as const;
/**
 * Statuses of routes that reach into a running capsule through its host agent
 * (504: the operation in the capsule timed out; 507: its disk or tmpfs is full).
 */
const IN_CAPSULE = [404, 409, 502, 503, 504, 507] as const;

/** File routes the admin API repeats for platform capsules. */
export const fileDefinitions = {
  uploadFile: {
    method: "POST",
    url: "/v1/capsules/:id/files/write",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Upload a file (multipart `path` + `file`, at most 100 MiB)",
    schema: { params: CapsuleParams, response: { 204: NoContent } },
    multipart: {
      fields: UploadFields,
      files: [{ name: "file", required: true, maxBytes: LIMITS.uploadMaxBytes, description: "The file's content." }],
      fieldsFirst: false,
    },
    errors: [...IN_CAPSULE],
  },
  downloadFile: {
    method: "POST",
    url: "/v1/capsules/:id/files/read",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Download a file",
    schema: { params: CapsuleParams, body: PathRequest, response: { 200: FileBytes } },
    errors: [...IN_CAPSULE],
  },
  listDir: {
    method: "POST",
    url: "/v1/capsules/:id/files/list",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "List a directory",
    schema: { params: CapsuleParams, body: ListDirRequest, response: { 200: ListDirResponse } },
    errors: [...IN_CAPSULE],
  },
  makeDir: {
    method: "POST",
    url: "/v1/capsules/:id/files/mkdir",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Create a directory and its parents (409 if it exists)",
    schema: { params: CapsuleParams, body: PathRequest, response: { 200: MakeDirResponse } },
    errors: [...IN_CAPSULE],
  },
  removePath: {
    method: "POST",
    url: "/v1/capsules/:id/files/remove",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Remove a file, or a directory with its contents",
    schema: { params: CapsuleParams, body: PathRequest, response: { 204: NoContent } },
    errors: [...IN_CAPSULE],
  },
} as const satisfies Readonly<Record<string, RouteDefinition>>;

/** Team file routes. */
export const fileRoutes = defineRoutes({
  ...fileDefinitions,
  streamUploadFile: {
    method: "POST",
    url: "/v1/capsules/:id/files/stream/write",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Upload a file of any size, streamed (the `path` part must come before `file`)",
    schema: { params: CapsuleParams, response: { 204: NoContent } },
    multipart: {
      fields: UploadFields,
      files: [{ name: "file", required: true, maxBytes: undefined, description: "The file's content, streamed." }],
      fieldsFirst: true,
    },
    errors: [...IN_CAPSULE],
  },
  streamDownloadFile: {
    method: "POST",
    url: "/v1/capsules/:id/files/stream/read",
    auth: "key_or_jwt",
    tags: ["capsules"],
    summary: "Download a file of any size, streamed",
    schema: { params: CapsuleParams, body: PathRequest, response: { 200: FileBytes } },
    errors: [...IN_CAPSULE],
  },
});
