import swagger from "@fastify/swagger";
import { apiTags, openApiRefResolver, openApiTransform, securitySchemes } from "@wrenn/api-schema";
import type { FastifyInstance } from "fastify";
import { renderDocsPage } from "./docs-page.js";

/**
 * Collects every route's schema into an OpenAPI 3 document (registered before
 * the routes, as @fastify/swagger requires) and serves it at `/openapi.yaml`
 * and `/openapi.json`, with a self-contained reference page at `/docs` (no CDN:
 * self-hosted installs are often offline).
 */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Wrenn API",
        version,
        description:
          "Secure, disposable Linux machines (capsules) for AI agents and developers. " +
          "Authenticate with `X-API-Key: wrn_…` or `Authorization: Bearer <JWT>`.",
      },
      tags: [...apiTags],
      components: { securitySchemes: securitySchemes as unknown as Record<string, never> },
    },
    hideUntagged: true,
    transform: openApiTransform,
    refResolver: openApiRefResolver,
  });
  app.get("/openapi.yaml", { schema: { hide: true } }, async (_request, reply) => {
    void reply.type("application/yaml");
    return app.swagger({ yaml: true });
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get("/docs", { schema: { hide: true } }, async (_request, reply) => {
    void reply.type("text/html; charset=utf-8");
    return renderDocsPage(app.swagger() as unknown as OpenApiDocument);
  });
}

/** The parts of an OpenAPI document the docs page reads. */
export interface OpenApiDocument {
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly paths?: Readonly<Record<string, Readonly<Record<string, OpenApiOperation>>>>;
}

/** The parts of an OpenAPI operation the docs page reads. */
export interface OpenApiOperation {
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly parameters?: readonly unknown[];
  readonly requestBody?: unknown;
  readonly responses?: Readonly<Record<string, unknown>>;
}
