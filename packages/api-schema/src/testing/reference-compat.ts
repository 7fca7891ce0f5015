/**
 * Test support: compares the route catalog with the reference's OpenAPI
 * document and reports every difference as a "finding" string
 * (`<check> <operationId> <status|-> <path>`), so the test can demand that
 * each one is explained.
 */
import type { ApiRoute, MediaSchemas, ResponseSchema } from "../routes/route.js";
import { generateExamples } from "./example-generator.js";
import { compileCheck, createAjv } from "./json-validator.js";
import { ReferenceOpenApi, type ReferenceOperation } from "./reference-openapi.js";
import { missingProperties, ourSchemaAt, referenceExamples, referenceRequired } from "./schema-walk.js";
import { inlineSharedRefs } from "./shared-refs.js";

type JsonObject = Readonly<Record<string, unknown>>;

/** A catalog route and the reference operation with the same method and path. */
export interface MatchedRoute {
  readonly route: ApiRoute;
  readonly operation: ReferenceOperation;
}

/** `/v1/capsules/:id` and `/v1/capsules/{id}` both become `/v1/capsules/{}`. */
export function normalizePath(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+/g, "{}").replace(/\{[^}]+\}/g, "{}");
}

/** Pairs catalog routes with reference operations; lists reference operations without a route. */
export function matchRoutes(
  routes: readonly ApiRoute[],
  reference: ReferenceOpenApi,
): { matched: MatchedRoute[]; unmatched: ReferenceOperation[] } {
  const byKey = new Map(routes.map((route) => [`${route.method} ${normalizePath(route.url)}`, route]));
  const matched: MatchedRoute[] = [];
  const unmatched: ReferenceOperation[] = [];
  for (const operation of reference.operations) {
    const route = byKey.get(`${operation.method} ${normalizePath(operation.path)}`);
    if (route) matched.push({ route, operation });
    else unmatched.push(operation);
  }
  return { matched, unmatched };
}

function isMedia(schema: ResponseSchema | undefined): schema is MediaSchemas {
  return schema !== undefined && "content" in schema && !("type" in schema) && !("anyOf" in schema);
}

function jsonSchemaOf(schema: unknown): JsonObject | undefined {
  if (schema === undefined) return undefined;
  if (isMedia(schema as ResponseSchema)) {
    return (schema as MediaSchemas).content["application/json"]?.schema as JsonObject | undefined;
  }
  return inlineSharedRefs(schema as JsonObject);
}

const indexPattern = /\/\d+(?=\/|$)/g;

/** Collects findings for one matched route. */
class RouteComparison {
  readonly findings = new Set<string>();
  readonly #ourAjv = createAjv({ strict: false });

  constructor(
    readonly reference: ReferenceOpenApi,
    readonly match: MatchedRoute,
  ) {}

  #add(check: string, status: string, path: string): void {
    this.findings.add(`${check} ${this.match.route.operationId} ${status} ${path || "/"}`);
  }

  run(): Set<string> {
    const { route, operation } = this.match;
    if (route.operationId !== operation.operationId) this.#add("operation-id", "-", String(operation.operationId));
    this.#compareResponses();
    this.#compareParameters();
    this.#compareBody();
    return this.findings;
  }

  #compareResponses(): void {
    const ours = this.match.route.schema.response;
    const refResponses = this.reference.responses(this.match.operation);
    const refSuccess = new Set(refResponses.filter((r) => Number(r.status) < 400).map((r) => r.status));
    const ourSuccess = new Set(Object.keys(ours).filter((s) => Number(s) < 400));
    for (const status of refSuccess) if (!ourSuccess.has(status)) this.#add("status-missing", status, "/");
    for (const status of ourSuccess) if (!refSuccess.has(status)) this.#add("status-extra", status, "/");
    for (const { status, response } of refResponses) {
      const ourSchema = ours[Number(status)];
      if (response === undefined || ourSchema === undefined) continue;
      const content = (response["content"] ?? {}) as JsonObject;
      if ("application/octet-stream" in content) {
        if (!isMedia(ourSchema) || !("application/octet-stream" in ourSchema.content)) {
          this.#add("media", status, "application/octet-stream");
        }
      }
      const refJson = content["application/json"] as JsonObject | undefined;
      if (refJson?.["schema"] === undefined) continue;
      const ourJson = jsonSchemaOf(ourSchema);
      if (ourJson === undefined) {
        this.#add("media", status, "application/json");
        continue;
      }
      this.#compareJson(status, refJson["schema"] as JsonObject, ourJson, "application/json");
    }
  }

  #compareJson(status: string, refSchema: JsonObject, ourSchema: JsonObject, mediaType: string): void {
    const check = this.reference.checkAt(
      ReferenceOpenApi.responseSchemaPointer(this.match.operation, status, mediaType),
    );
    for (const instance of generateExamples(ourSchema)) {
      for (const error of check(instance))
        this.#add("generated", status, error.instancePath.replace(indexPattern, "/*"));
    }
    for (const path of missingProperties(this.reference, refSchema, ourSchema)) this.#add("property", status, path);
    for (const { path, value } of referenceExamples(this.reference, refSchema)) {
      const target = ourSchemaAt(ourSchema, path);
      if (target === undefined || compileCheck(this.#ourAjv, target)(value).length > 0) {
        this.#add("example", status, path);
      }
    }
  }

  #compareParameters(): void {
    const { route, operation } = this.match;
    const ourQuery = new Set(Object.keys(route.schema.querystring?.properties ?? {}));
    const ourPath = Object.keys(route.schema.params?.properties ?? {});
    const refPath = operation.parameters.filter((p) => p.in === "path");
    if (refPath.length !== ourPath.length) this.#add("path-params", "-", refPath.map((p) => p.name).join(","));
    for (const parameter of operation.parameters) {
      if (parameter.in === "query" && !ourQuery.has(parameter.name)) this.#add("query", "-", parameter.name);
    }
  }

  #compareBody(): void {
    const { route, operation } = this.match;
    const requestBody = operation.operation["requestBody"] as JsonObject | undefined;
    const content = (requestBody?.["content"] ?? {}) as JsonObject;
    const refJson = (content["application/json"] as JsonObject | undefined)?.["schema"] as JsonObject | undefined;
    const refMultipart = (content["multipart/form-data"] as JsonObject | undefined)?.["schema"] as
      | JsonObject
      | undefined;
    if (refJson !== undefined) {
      const ourBody = jsonSchemaOf(route.schema.body);
      if (ourBody === undefined) {
        this.#add("request-media", "-", "application/json");
        return;
      }
      for (const path of missingProperties(this.reference, refJson, ourBody)) this.#add("request-property", "-", path);
      this.#compareRequired(refJson, new Set((ourBody["required"] ?? []) as string[]));
      const check = this.reference.checkAt(`${operation.pointer}/requestBody/content/application~1json/schema`);
      for (const instance of generateExamples(ourBody)) {
        for (const error of check(instance)) this.#add("request-generated", "-", error.instancePath);
      }
    }
    if (refMultipart !== undefined) {
      const multipart = route.multipart;
      if (multipart === undefined) {
        this.#add("request-media", "-", "multipart/form-data");
        return;
      }
      const properties = { ...multipart.fields.properties } as Record<string, unknown>;
      for (const file of multipart.files) properties[file.name] = { type: "string", format: "binary" };
      const ours = { type: "object", properties };
      for (const path of missingProperties(this.reference, refMultipart, ours)) {
        this.#add("request-property", "-", path);
      }
      const required = new Set<string>(multipart.fields.required ?? []);
      for (const file of multipart.files) if (file.required) required.add(file.name);
      this.#compareRequired(refMultipart, required);
    }
  }

  #compareRequired(refSchema: JsonObject, ourRequired: ReadonlySet<string>): void {
    const refRequired = referenceRequired(this.reference, refSchema);
    for (const name of ourRequired) if (!refRequired.has(name)) this.#add("request-required", "-", name);
  }
}

/** Every finding of every matched route. */
export function compareWithReference(reference: ReferenceOpenApi, matched: readonly MatchedRoute[]): Set<string> {
  const findings = new Set<string>();
  for (const match of matched) {
    for (const finding of new RouteComparison(reference, match).run()) findings.add(finding);
  }
  return findings;
}
