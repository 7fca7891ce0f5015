/**
 * Bad input on every route of the catalog that takes a body, parameters or a
 * query (issue 4): each case derived from the route's schemas gets a 4xx
 * with the error body and a catalog code, never echoes the bad value, and
 * leaves every table of the database (and the audit log) exactly as it was.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ApiRoute, apiRouteList } from "@wrenn/api-schema";
import {
  type BadCase,
  bodyCases,
  contentCases,
  MARKER,
  messageCases,
  multipartCases,
  paramCases,
  queryCases,
} from "./bad-input-cases.js";
import { assertWorldIntact, type MatrixWorld, prepareWorld } from "./matrix-world.js";
import {
  changedTables,
  databaseFingerprint,
  isWebSocket,
  jsonBodySchema,
  readErrorReply,
  sendRoute,
  servedRoutes,
  urlFor,
  validJsonBody,
} from "./route-matrix.js";
import { type Stack, stackSkipReason, startStack } from "./stack.js";
import { probeWs } from "./ws-probe.js";

/** Where uploads of the multipart cases would land if one got through. */
const UPLOAD_PATH = "/tmp/matrix/bad-upload.txt";

const takesInput = (route: ApiRoute) =>
  route.schema.params !== undefined ||
  route.schema.querystring !== undefined ||
  route.schema.body !== undefined ||
  route.multipart !== undefined;

/** Names that exist nowhere, for path parameters that are names rather than ids. */
const unknownName = (param: string) => (param === "provider" ? "no-such-provider" : `no-such-${param}-x1`);

/** Body fields that name a template: an unknown name must be a 404, not a 5xx or a half-made capsule. */
const TEMPLATE_FIELDS = ["template", "base_template"];

/** A valid upload of the multipart routes (to {@link UPLOAD_PATH}). */
function upload(): FormData {
  const form = new FormData();
  form.set("path", UPLOAD_PATH);
  form.set("file", new Blob(["refused"]), "upload.txt");
  return form;
}

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function casesOf(route: ApiRoute, base: unknown): BadCase[] {
  const object = typeof base === "object" && base !== null ? (base as Record<string, unknown>) : {};
  const cases = [
    ...paramCases(route, unknownName),
    ...queryCases(route),
    ...bodyCases(route, object),
    ...contentCases(route),
    ...multipartCases(route, UPLOAD_PATH),
    ...messageCases(route),
  ];
  const properties = (jsonBodySchema(route)?.["properties"] ?? {}) as Record<string, unknown>;
  for (const field of TEMPLATE_FIELDS.filter((f) => f in properties)) {
    cases.push({ name: `body.${field} of nothing`, expect: [404], body: { ...object, [field]: "no-such-template" } });
  }
  return cases;
}

describe("bad input on every route of the catalog: 4xx, the error body, nothing changed", {
  skip: stackSkipReason,
}, () => {
  let s: Stack;
  let world: MatrixWorld;
  let served: Set<string>;
  let fingerprint: Record<string, string>;

  before(async () => {
    s = await startStack();
    world = await prepareWorld(s);
    // Chained: each route's "after" is the next route's "before".
    fingerprint = await databaseFingerprint(s.db);
    served = new Set(servedRoutes(s.cp).served.map((r) => r.operationId));
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  test("every capsule and snapshot route of the catalog is served and has cases", () => {
    const required = apiRouteList.filter((r) => /^\/v1\/(capsules|snapshots)(\/|$)/.test(r.url) && takesInput(r));
    assert.ok(required.length >= 20, `only ${required.length} capsule/snapshot routes take input`);
    const missing = required.filter((r) => !served.has(r.operationId)).map((r) => r.operationId);
    assert.deepEqual(missing, []);
  });

  for (const route of apiRouteList.filter(takesInput)) {
    test(`${route.operationId}: ${route.method} ${route.url}`, async (t) => {
      if (!served.has(route.operationId)) {
        t.skip("not served by the control plane yet");
        return;
      }
      const base =
        route.multipart !== undefined && jsonBodySchema(route) === undefined ? upload() : validJsonBody(route);
      const cases = casesOf(route, base);
      assert.ok(cases.length > 0, "a route with input has cases");
      const audited = s.audit.entries.length;
      // Cases only read, so they run a few at a time; any write shows in the fingerprint.
      await inParallel(cases, 6, async (c) => {
        const where = `${route.operationId} ${c.name}`;
        if (isWebSocket(route)) await webSocketCase(route, c, where);
        else await httpCase(route, c, base, where);
      });
      const now = await databaseFingerprint(s.db);
      const changed = changedTables(fingerprint, now);
      fingerprint = now;
      assert.deepEqual(changed, [], "no table changed");
      assert.equal(s.audit.entries.length, audited, "nothing was audited");
    });
  }

  test("team A's capsule, file, process and template are as they were", async () => {
    await assertWorldIntact(s, world);
    const upload = await s.api(`/v1/capsules/${world.capsuleId}/files/read`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: UPLOAD_PATH }),
    });
    assert.equal(upload.status, 404, "no refused upload left a file");
  });

  async function httpCase(route: ApiRoute, c: BadCase, base: unknown, where: string): Promise<void> {
    const res = await sendRoute(s.base, route, urlFor(route, world.refs, c.params), {
      headers: world.credentialsFor(route),
      body: "body" in c ? c.body : base,
      ...(c.raw === undefined ? {} : { raw: c.raw }),
      ...(c.query === undefined ? {} : { query: c.query }),
    });
    const reply = await readErrorReply(res, where);
    assert.ok(c.expect.includes(reply.status), `${where}: ${reply.status} ${reply.code} ${reply.message}`);
    assert.ok(!reply.message.toUpperCase().includes(MARKER), `${where}: the message echoes the value`);
  }

  /**
   * WebSocket routes: a malformed parameter refuses the upgrade with the
   * error body; an id of nothing or a bad first message opens the socket,
   * gets one error message and a close; no case ever starts a process.
   */
  async function webSocketCase(route: ApiRoute, c: BadCase, where: string): Promise<void> {
    const url = `${s.base.replace("http", "ws")}${urlFor(route, world.refs, c.params)}`;
    const result = await probeWs(url, { headers: world.credentialsFor(route), send: c.messages ?? [] });
    if (c.expect.includes(400) && c.messages === undefined) {
      assert.equal(result.refusedStatus, 400, `${where}: ${JSON.stringify(result)}`);
      const reply = await readErrorReply(
        new Response(result.refusedBody, { status: 400, headers: { "content-type": "application/json" } }),
        where,
      );
      assert.equal(reply.code, "invalid_request");
      return;
    }
    assert.ok(result.opened, `${where}: ${JSON.stringify(result)}`);
    assert.ok(result.closeCode !== undefined, `${where}: the server closes the socket`);
    assert.deepEqual(
      result.messages.map((m) => m.type),
      ["error"],
      `${where}: ${JSON.stringify(result.messages)}`,
    );
  }
});
