import { apiRoutes, LIMITS } from "@wrenn/api-schema";
import type { FastifyReply } from "fastify";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { principalOf, routeOptions } from "../http/route-options.js";
import type { FilesService } from "./files.service.js";
import { readUpload } from "./multipart-upload.js";

/** File routes of running capsules. Uploads and downloads stream in constant memory. */
export function fileRoutes(deps: { readonly auth: Authenticator; readonly files: FilesService }): RouteModule {
  const { auth, files } = deps;
  return (app) => {
    // Multipart bodies stay unread until the handler streams them.
    app.addContentTypeParser("multipart/form-data", (_req, _payload, done) => done(null, undefined));

    for (const [route, maxBytes, fieldsFirst] of [
      [apiRoutes.uploadFile, LIMITS.uploadMaxBytes, false],
      [apiRoutes.streamUploadFile, undefined, true],
    ] as const) {
      app.route({
        ...routeOptions(route, auth),
        // Uploads are limited by the multipart reader, not Fastify's JSON body limit.
        bodyLimit: Number.MAX_SAFE_INTEGER,
        handler: async (req, reply) => {
          const principal = principalOf(req);
          const abort = abortOnHangUp(reply);
          await readUpload(req.raw, {
            maxBytes,
            fieldsFirst,
            consume: ({ path, content }) => files.write(principal, req.params.id, path, content, abort.signal),
          });
          return reply.code(204).send(null);
        },
      });
    }

    for (const route of [apiRoutes.downloadFile, apiRoutes.streamDownloadFile]) {
      app.route({
        ...routeOptions(route, auth),
        handler: async (req, reply) => {
          const abort = abortOnHangUp(reply);
          const { body, size } = await files.read(principalOf(req), req.params.id, req.body.path, abort.signal);
          reply.type("application/octet-stream");
          // The length lets clients see a cut transfer for what it is (and show progress).
          if (size !== undefined) reply.header("content-length", size);
          return reply.send(body);
        },
      });
    }

    app.route({
      ...routeOptions(apiRoutes.listDir, auth),
      handler: async (req) => files.list(principalOf(req), req.params.id, req.body.path, req.body.depth ?? 1),
    });
    app.route({
      ...routeOptions(apiRoutes.makeDir, auth),
      handler: async (req) => files.mkdir(principalOf(req), req.params.id, req.body.path),
    });
    app.route({
      ...routeOptions(apiRoutes.removePath, auth),
      handler: async (req, reply) => {
        await files.remove(principalOf(req), req.params.id, req.body.path);
        return reply.code(204).send(null);
      },
    });
  };
}

/**
 * Aborts when the client hangs up before its response is complete, so the transfer to or
 * from the agent stops too (a cut upload would otherwise wait for bytes that never come).
 */
function abortOnHangUp(reply: FastifyReply): AbortController {
  const abort = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort;
}
