import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_BODY_ID } from "../error-codes.js";
import { generateExamples } from "../testing/example-generator.js";
import { compileCheck, createAjv, formatErrors } from "../testing/json-validator.js";
import { inlineSharedRefs } from "../testing/shared-refs.js";
import { apiRouteList, apiRoutes } from "./catalog.js";
import { apiTags, openApiTransform, securitySchemes } from "./openapi.js";
import type { ApiRoute, MediaSchemas, ResponseSchema } from "./route.js";

// Strict mode: a schema mistake (unknown keyword, contradictory types) fails here.
const ajv = createAjv({ strict: true });

function isMedia(schema: ResponseSchema): schema is MediaSchemas {
  return "content" in schema && !("type" in schema) && !("anyOf" in schema);
}

/** Every JSON schema a route validates or serialises with, labelled. */
function schemasOf(route: ApiRoute): [string, object][] {
  const found: [string, object][] = [];
  const { params, querystring, body, response } = route.schema;
  if (params) found.push(["params", params]);
  if (querystring) found.push(["querystring", querystring]);
  if (body) {
    if (isMedia(body))
      for (const [type, media] of Object.entries(body.content)) found.push([`body ${type}`, media.schema]);
    else found.push(["body", body]);
  }
  for (const [status, schema] of Object.entries(response)) {
    if (isMedia(schema))
      for (const [type, media] of Object.entries(schema.content)) found.push([status + type, media.schema]);
    else found.push([status, inlineSharedRefs(schema)]);
  }
  if (route.multipart) found.push(["multipart fields", route.multipart.fields]);
  if (route.websocket) found.push(["ws client", route.websocket.client], ["ws server", route.websocket.server]);
  return found;
}

describe("route catalog", () => {
  it("is keyed by operationId, with unique method + URL", () => {
    const seen = new Set<string>();
    for (const [key, route] of Object.entries(apiRoutes)) {
      assert.equal(route.operationId, key);
      assert.equal(route.schema.operationId, key);
      const id = `${route.method} ${route.url}`;
      assert.ok(!seen.has(id), `duplicate route ${id}`);
      seen.add(id);
    }
    assert.equal(apiRouteList.length, Object.keys(apiRoutes).length);
  });

  it("declares exactly the URL's path parameters", () => {
    for (const route of apiRouteList) {
      const inUrl = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]).sort();
      const declared = Object.keys(route.schema.params?.properties ?? {}).sort();
      assert.deepEqual(declared, inUrl, route.operationId);
      assert.deepEqual(route.schema.params?.required?.slice().sort() ?? [], inUrl, `${route.operationId} required`);
    }
  });

  it("covers every area of the API", () => {
    const prefixes = [
      "/health",
      "/v1/auth/",
      "/auth/oauth/",
      "/v1/me",
      "/v1/api-keys",
      "/v1/teams",
      "/v1/users/search",
      "/v1/capsules",
      "/v1/snapshots",
      "/v1/hosts",
      "/v1/channels",
      "/v1/audit-logs",
      "/v1/admin/teams",
      "/v1/admin/users",
      "/v1/admin/audit-logs",
      "/v1/admin/templates",
      "/v1/admin/builds",
      "/v1/admin/capsules",
    ];
    for (const prefix of prefixes) {
      assert.ok(
        apiRouteList.some((r) => r.url.startsWith(prefix)),
        `no route under ${prefix}`,
      );
    }
    assert.equal(apiRouteList.filter((r) => r.websocket).length, 6, "3 team + 3 admin WebSockets");
  });

  it("uses WebSocket auth kinds exactly on GET WebSocket routes answering 101", () => {
    for (const route of apiRouteList) {
      const wsAuth = route.auth === "ws_optional" || route.auth === "admin_ws";
      assert.equal(route.websocket !== undefined, wsAuth, route.operationId);
      if (route.websocket) {
        assert.equal(route.method, "GET", route.operationId);
        assert.ok(101 in route.schema.response, route.operationId);
      }
    }
  });

  it("marks only admin capsule routes as platform-team routes, all under /v1/admin/capsules", () => {
    for (const route of apiRouteList) {
      assert.equal(route.platformTeam, route.url.startsWith("/v1/admin/capsules"), route.operationId);
      if (route.url.startsWith("/v1/admin/")) assert.ok(route.auth === "admin" || route.auth === "admin_ws");
    }
  });

  it("gives every response a description and every credentialed route 401/403 error bodies", () => {
    for (const route of apiRouteList) {
      for (const [status, schema] of Object.entries(route.schema.response)) {
        assert.equal(
          typeof (schema as { description?: unknown }).description,
          "string",
          `${route.operationId} ${status}`,
        );
      }
      if (["key_or_jwt", "jwt", "admin", "host"].includes(route.auth)) {
        for (const status of [401, 403, 500]) {
          const schema = route.schema.response[status];
          assert.equal(
            (schema as { $ref?: unknown } | undefined)?.$ref,
            `${ERROR_BODY_ID}#`,
            `${route.operationId} ${status}`,
          );
        }
      }
      assert.ok(route.tags.length > 0 && route.tags.every((tag) => apiTags.some((t) => t.name === tag)));
      for (const requirement of route.schema.security) {
        for (const name of Object.keys(requirement)) assert.ok(name in securitySchemes, name);
      }
    }
  });

  it("compiles every schema strictly, and its generated examples validate against it", () => {
    let instances = 0;
    for (const route of apiRouteList) {
      for (const [label, schema] of schemasOf(route)) {
        const check = compileCheck(ajv, schema);
        let examples: unknown[];
        try {
          examples = generateExamples(schema);
        } catch (error) {
          throw new Error(`${route.operationId} ${label}: ${String(error)}`);
        }
        for (const instance of examples) {
          const errors = check(instance);
          assert.deepEqual(errors, [], `${route.operationId} ${label}: ${formatErrors(errors)}`);
          instances++;
        }
      }
    }
    assert.ok(instances > 500, `only ${instances} instances generated`);
  });

  it("bounds every string, array and map a client sends", () => {
    const unbounded: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      const schema = node as Record<string, unknown>;
      const fixed = "const" in schema || "enum" in schema;
      if (schema["type"] === "string" && !fixed && schema["maxLength"] === undefined) {
        if (schema["format"] !== "date" && schema["format"] !== "date-time") unbounded.push(path);
      }
      if (schema["type"] === "array" && schema["maxItems"] === undefined) unbounded.push(path);
      if (schema["patternProperties"] !== undefined && schema["maxProperties"] === undefined) unbounded.push(path);
      for (const [key, child] of Object.entries(schema)) {
        if (key !== "examples" && key !== "default") visit(child, `${path}/${key}`);
      }
    };
    for (const route of apiRouteList) {
      const { params, querystring, body } = route.schema;
      visit({ params, querystring, body }, route.operationId);
      visit(route.multipart?.fields, `${route.operationId}/multipart`);
      visit(route.websocket?.client, `${route.operationId}/ws`);
    }
    assert.deepEqual(unbounded, []);
  });

  it("documents multipart bodies for OpenAPI without touching the validation schema", () => {
    const upload = apiRoutes.uploadFile;
    const transformed = openApiTransform({ schema: upload.schema, url: upload.url });
    const content = (transformed.schema["body"] as MediaSchemas).content;
    const multipart = content["multipart/form-data"]?.schema as { required: string[]; properties: object };
    assert.deepEqual(multipart.required.sort(), ["file", "path"]);
    assert.ok("file" in multipart.properties && "path" in multipart.properties);
    assert.equal("body" in upload.schema, false, "Fastify must not validate the multipart stream");

    const build = openApiTransform({ schema: apiRoutes.adminCreateBuild.schema, url: "/v1/admin/builds" });
    const buildContent = (build.schema["body"] as MediaSchemas).content;
    assert.deepEqual(Object.keys(buildContent).sort(), ["application/json", "multipart/form-data"]);

    const plain = openApiTransform({ schema: apiRoutes.getCapsule.schema, url: "/v1/capsules/:id" });
    assert.equal(plain.schema, apiRoutes.getCapsule.schema);
  });
});
