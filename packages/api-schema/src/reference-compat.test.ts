/**
 * The catalog against the reference system's OpenAPI document: every
 * reference route exists (or is listed below with a reason), and for each
 * shared route the responses and requests stay compatible. Every difference
 * found must be listed in DEVIATIONS with its reason, and every listed
 * deviation must still occur, so the lists cannot go stale.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Type from "typebox";
import { apiRouteList } from "./index.js";
import { defineRoutes } from "./routes/route.js";
import { Capsule, CreateCapsuleRequest } from "./schemas/capsules.js";
import { compareWithReference, matchRoutes } from "./testing/reference-compat.js";
import { ReferenceOpenApi } from "./testing/reference-openapi.js";

/** Reference operations the catalog does not have at the same method and path. */
const ACCEPTED_MISSING_ROUTES: Readonly<Record<string, string>> = {
  "GET /v1/auth/oauth/{provider}":
    "The reference's router serves it at /auth/oauth/{provider} (inventory §2, B.16); so does our oauthRedirect.",
  "GET /v1/auth/oauth/{provider}/callback":
    "The reference's router serves it at /auth/oauth/{provider}/callback (inventory §2, B.16); so does our oauthCallback.",
};

/** Known differences (`<check> <operationId> <status> <path>`) and why they are right. */
const DEVIATIONS: Readonly<Record<string, string>> = {
  "generated listDir 200 /entries/*/type":
    "FileEntry.type also has `unknown` (sockets, devices): the reference server sends it though its spec's enum lacks it (inventory §2.2).",
  "generated makeDir 200 /entry/type": "Same FileEntry.type `unknown` as listDir.",
  "property listAPIKeys 200 /*/key":
    "The plaintext key exists only in the creation answer; the reference omitted it from lists too (omitempty).",
  "property listChannels 200 /*/secret":
    "A webhook secret is shown once, on creation; the reference never sent it afterwards either.",
  "property getChannel 200 /secret": "As listChannels: the secret is returned only by createChannel.",
  "property updateChannel 200 /secret": "As listChannels: the secret is returned only by createChannel.",
  "property rotateChannelConfig 200 /secret": "As listChannels: the secret is returned only by createChannel.",
  "example deleteHost 409 /error/code":
    "The spec's example says host_has_sandboxes but the reference server sends has_active_sandboxes (inventory B.15); we send the server's code.",
};

/** `$ref`s the reference document uses without defining them; those responses cannot be compared. */
const KNOWN_DANGLING_REFS = ["#/components/responses/BadRequest"];

describe("route catalog vs the reference OpenAPI document", () => {
  const reference = new ReferenceOpenApi();
  const { matched, unmatched } = matchRoutes(apiRouteList, reference);

  it("has every reference route, except those listed with a reason", () => {
    const missing = unmatched.map((operation) => `${operation.method} ${operation.path}`).sort();
    assert.deepEqual(missing, Object.keys(ACCEPTED_MISSING_ROUTES).sort());
    assert.ok(matched.length >= 70, `only ${matched.length} routes matched`);
  });

  it("differs from the reference only where DEVIATIONS explains why", () => {
    const findings = compareWithReference(reference, matched);
    const unexplained = [...findings].filter((finding) => !(finding in DEVIATIONS)).sort();
    assert.deepEqual(unexplained, [], `unexplained differences:\n${unexplained.join("\n")}`);
    const stale = Object.keys(DEVIATIONS).filter((deviation) => !findings.has(deviation));
    assert.deepEqual(stale, [], "listed deviations that no longer occur: remove them");
  });

  it("explains where the reference document belongs when it is missing", () => {
    assert.throws(
      () => new ReferenceOpenApi("/nonexistent/shared/reference/wrenn-openapi.yaml"),
      /not found at \/nonexistent.*shared\/reference\/wrenn-openapi\.yaml in the directory that contains the repository/s,
    );
  });

  it("knows which reference responses cannot be compared", () => {
    const dangling = new Set<string>();
    for (const operation of reference.operations) {
      for (const response of reference.responses(operation)) {
        if (response.danglingRef !== undefined) dangling.add(response.danglingRef);
      }
    }
    assert.deepEqual([...dangling].sort(), KNOWN_DANGLING_REFS);
  });

  it("detects drift: a wrong field type, a dropped field, an extra required field", () => {
    const { properties } = Capsule;
    const { template: _template, ...withoutTemplate } = properties;
    const drifted = defineRoutes({
      createCapsule: {
        method: "POST",
        url: "/v1/capsules",
        auth: "key_or_jwt",
        tags: ["capsules"],
        summary: "drifted copy",
        schema: {
          body: Type.Object({ ...CreateCapsuleRequest.properties, name: Type.String() }),
          response: { 200: Type.Object({ ...withoutTemplate, vcpus: Type.String() }) },
        },
      },
    });
    const findings = [...compareWithReference(reference, matchRoutes(Object.values(drifted), reference).matched)];
    assert.ok(findings.includes("status-missing createCapsule 201 /"), findings.join("\n"));
    assert.ok(findings.includes("status-extra createCapsule 200 /"), findings.join("\n"));
    assert.ok(findings.includes("request-required createCapsule - name"), findings.join("\n"));
  });

  it("detects drift in a shared status: wrong type and missing property", () => {
    const { template: _template, ...withoutTemplate } = Capsule.properties;
    const drifted = defineRoutes({
      getCapsule: {
        method: "GET",
        url: "/v1/capsules/:id",
        auth: "key_or_jwt",
        tags: ["capsules"],
        summary: "drifted copy",
        schema: { response: { 200: Type.Object({ ...withoutTemplate, vcpus: Type.String({ examples: ["1"] }) }) } },
      },
    });
    const findings = [...compareWithReference(reference, matchRoutes(Object.values(drifted), reference).matched)];
    assert.ok(findings.includes("generated getCapsule 200 /vcpus"), findings.join("\n"));
    assert.ok(findings.includes("property getCapsule 200 /template"), findings.join("\n"));
    assert.ok(findings.includes("path-params getCapsule - id"), findings.join("\n"));
  });
});
