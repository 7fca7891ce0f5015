/**
 * The authorization matrix of issue 4, driven by the route catalog: another
 * team's key or JWT gets 404 on every capsule, file, process, snapshot and
 * WebSocket route aimed at team A's resources (which stay untouched); absent,
 * malformed, unknown, forged, expired and deactivated credentials are refused
 * on every credentialed route; members may use every capsule route, while API
 * keys and non-admins are kept off user-only and admin routes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ApiRoute, apiRouteList } from "@wrenn/api-schema";
import { type BadCredential, badHostCredentials, badUserCredentials, refusedTokens } from "./authz-credentials.js";
import { runMemberThroughCapsuleRoutes } from "./authz-member.js";
import { assertWorldIntact, KEEP_FILE, type MatrixWorld, prepareWorld, TEAM_A_TEMPLATE } from "./matrix-world.js";
import {
  changedTables,
  databaseFingerprint,
  isWebSocket,
  pathParamNames,
  readErrorReply,
  sendRoute,
  servedRoutes,
  urlFor,
  validJsonBody,
} from "./route-matrix.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";
import { probeWs } from "./ws-probe.js";

/** Files a leaked write would leave in team A's capsule. */
const PWNED = "/tmp/matrix/pwned";
const PWN = ["-c", `echo pwned > ${PWNED}`];

/** Every catalog route under /v1/capsules and /v1/snapshots: the team-scoped resources of the matrix. */
const teamResourceRoutes = apiRouteList.filter((r) => /^\/v1\/(capsules|snapshots)(\/|$)/.test(r.url));

/**
 * Bodies aimed at team A's resources that would do damage if authorization
 * leaked (the capsule is checked afterwards). Routes without an entry get a
 * body generated from their schema.
 */
function bodiesAgainstTeamA(world: MatrixWorld): Readonly<Record<string, Record<string, unknown>>> {
  return {
    createCapsule: { template: TEAM_A_TEMPLATE },
    createSnapshot: { sandbox_id: world.capsuleId, name: "stolen" },
    execCommand: { cmd: "/bin/sh", args: PWN },
    downloadFile: { path: KEEP_FILE.path },
    streamDownloadFile: { path: KEEP_FILE.path },
    listDir: { path: "/tmp/matrix" },
    makeDir: { path: `${PWNED}-dir` },
    removePath: { path: KEEP_FILE.path },
  };
}

/** Routes that reach team A's resources through their body rather than their path. */
const TARGETS_IN_BODY = new Set(["createCapsule", "createSnapshot"]);

function pwnUpload(): FormData {
  const form = new FormData();
  form.set("path", PWNED);
  form.set("file", new Blob(["pwned"]), "pwned.txt");
  return form;
}

/**
 * The first message of a session after header credentials: a start that
 * would write {@link PWNED} if it ran; for routes without one (the process
 * stream) any message, which a socket still waiting for auth refuses at once.
 */
function startMessage(route: ApiRoute): unknown[] {
  if (/xecStream|tySession/.test(route.operationId)) return [{ type: "start", cmd: "/bin/sh", args: PWN }];
  return [{ type: "hello" }];
}

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

describe("authorization matrix over the route catalog", { skip: stackSkipReason }, () => {
  let s: Stack;
  let world: MatrixWorld;
  let served: ApiRoute[];
  let wsBase: string;

  before(async () => {
    s = await startStack();
    world = await prepareWorld(s);
    served = servedRoutes(s.cp).served;
    wsBase = s.base.replace("http", "ws");
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  const requestAgainstTeamA = (route: ApiRoute, headers: Record<string, string>) => {
    const body =
      route.multipart !== undefined && route.schema.body === undefined
        ? pwnUpload()
        : validJsonBody(route, bodiesAgainstTeamA(world)[route.operationId]);
    return sendRoute(s.base, route, urlFor(route, world.refs), { headers, body });
  };

  test("the matrix covers every capsule, file, process, snapshot and WebSocket route of the catalog", () => {
    assert.ok(teamResourceRoutes.length >= 26, `${teamResourceRoutes.length} routes`);
    assert.ok(teamResourceRoutes.filter(isWebSocket).length >= 3);
    const servedIds = new Set(served.map((r) => r.operationId));
    assert.deepEqual(
      teamResourceRoutes.filter((r) => !servedIds.has(r.operationId)).map((r) => r.operationId),
      [],
    );
  });

  test("team B's API key and user JWT get 404 on team A's capsules, files, processes and templates", async () => {
    const teamB: Record<string, string>[] = [
      { "x-api-key": s.teamB.apiKey },
      { authorization: `Bearer ${world.ownerB}` },
    ];
    let targeted = 0;
    for (const route of teamResourceRoutes.filter((r) => !isWebSocket(r))) {
      for (const headers of teamB) {
        const where = `${route.operationId} as ${Object.keys(headers)[0]} of team B`;
        const res = await requestAgainstTeamA(route, headers);
        if (pathParamNames(route).length > 0 || TARGETS_IN_BODY.has(route.operationId)) {
          const reply = await readErrorReply(res, where);
          assert.deepEqual([reply.status, reply.code], [404, "not_found"], `${where}: ${reply.message}`);
          targeted++;
        } else {
          // Collections: team B sees its own (empty) view, never team A's resources.
          const text = await res.text();
          assert.equal(res.status, 200, `${where}: ${text}`);
          assert.ok(!text.includes(world.capsuleId) && !text.includes(TEAM_A_TEMPLATE), `${where} shows team A's`);
        }
      }
    }
    assert.ok(targeted >= 38, `${targeted} targeted requests`);
  });

  test("team B over WebSockets (header key, header JWT, first-message JWT): an error, a close, never a session", async () => {
    for (const route of teamResourceRoutes.filter(isWebSocket)) {
      const url = `${wsBase}${urlFor(route, world.refs)}`;
      const modes: { name: string; headers: Record<string, string>; send: unknown[] }[] = [
        { name: "header key", headers: { "x-api-key": s.teamB.apiKey }, send: startMessage(route) },
        { name: "header JWT", headers: { authorization: `Bearer ${world.ownerB}` }, send: startMessage(route) },
        { name: "first message", headers: {}, send: [{ type: "auth", token: world.ownerB }, ...startMessage(route)] },
      ];
      for (const mode of modes) {
        const result = await probeWs(url, { headers: mode.headers, send: mode.send });
        const where = `${route.operationId} (${mode.name})`;
        assert.ok(result.opened && result.closeCode !== undefined, `${where}: ${JSON.stringify(result)}`);
        assert.deepEqual(
          result.messages.map((m) => m.type),
          ["error"],
          where,
        );
        assert.match(String(result.messages[0]?.["data"]), /not found/, where);
      }
    }
  });

  test("bad credentials: 401 on every credentialed route (403 account_deactivated for a disabled user)", async () => {
    const tokens = await refusedTokens(s, world);
    const expired = s.cp.jwt.verifyUser(tokens.expired);
    assert.ok(!expired.ok && expired.reason === "expired", "the expired token differs only by its age");
    const userCredentials = badUserCredentials(tokens, world.hostToken);
    const hostCredentials = badHostCredentials(s, tokens);
    const cases: { route: ApiRoute; credential: BadCredential }[] = [];
    for (const route of served.filter((r) => !isWebSocket(r))) {
      const refused = ["key_or_jwt", "jwt", "admin"].includes(route.auth)
        ? userCredentials
        : route.auth === "host"
          ? hostCredentials
          : [];
      for (const credential of refused) cases.push({ route, credential });
    }
    assert.ok(cases.length >= 500, `${cases.length} cases`);
    const fingerprint = await databaseFingerprint(s.db);
    await inParallel(cases, 6, async ({ route, credential }) => {
      const where = `${route.operationId} with ${credential.name}`;
      const reply = await readErrorReply(await requestAgainstTeamA(route, { ...credential.headers }), where);
      assert.deepEqual([reply.status, reply.code], [credential.status, credential.code], where);
    });
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(s.db)), []);

    for (const route of served.filter((r) => r.auth === "ws_optional")) {
      const url = `${wsBase}${urlFor(route, world.refs)}`;
      const attempts = [
        { name: "no credentials", headers: {}, send: startMessage(route) },
        ...userCredentials
          .filter((c) => Object.keys(c.headers).length > 0)
          .map((c) => ({ name: `header: ${c.name}`, headers: c.headers, send: startMessage(route) })),
        ...[...userCredentials.filter((c) => c.token !== undefined).map((c) => [c.name, c.token]), ...notTokens(s)].map(
          ([name, token]) => ({
            name: `first message: ${String(name)}`,
            headers: {},
            send: [{ type: "auth", token }, ...startMessage(route)],
          }),
        ),
      ];
      for (const attempt of attempts) {
        const result = await probeWs(url, { headers: { ...attempt.headers }, send: attempt.send });
        const where = `${route.operationId} with ${attempt.name}`;
        assert.equal(result.closeCode, 1008, `${where}: ${JSON.stringify(result)}`);
        assert.deepEqual(
          result.messages.map((m) => m.type),
          ["error"],
          where,
        );
      }
    }
  });

  test("roles: a team member may use every capsule, file, process and snapshot route", async () => {
    await runMemberThroughCapsuleRoutes(
      s,
      world,
      served.filter((r) => teamResourceRoutes.includes(r)),
    );
  });

  test("API keys are refused on user-only routes (401) and non-admins on admin routes (403)", async () => {
    const userOnly = served.filter((r) => r.auth === "jwt" || r.auth === "admin");
    const adminOnly = served.filter((r) => r.auth === "admin");
    assert.ok(userOnly.length >= 30 && adminOnly.length >= 1, `${userOnly.length} user, ${adminOnly.length} admin`);
    const fingerprint = await databaseFingerprint(s.db);
    await inParallel(userOnly, 6, async (route) => {
      const reply = await readErrorReply(
        await requestAgainstTeamA(route, { "x-api-key": s.teamA.apiKey }),
        `${route.operationId} with team A's API key`,
      );
      assert.deepEqual([reply.status, reply.code], [401, "unauthorized"], route.operationId);
    });
    await inParallel(adminOnly, 6, async (route) => {
      const where = `${route.operationId} as team A's owner`;
      const reply = await readErrorReply(
        await requestAgainstTeamA(route, { authorization: `Bearer ${world.ownerA}` }),
        where,
      );
      assert.deepEqual([reply.status, reply.code], [403, "forbidden"], where);
    });
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(s.db)), []);
  });

  test("team A's capsule, file, process and template are untouched; nothing leaked was written", async () => {
    await assertWorldIntact(s, world);
    for (const path of [PWNED, `${PWNED}-dir`]) {
      const res = await s.api(`/v1/capsules/${world.capsuleId}/files/read`, json({ path }));
      assert.equal(res.status, 404, `${path} must not exist`);
    }
    const stolen = await s.db.query("SELECT 1 FROM templates WHERE name = 'stolen'");
    assert.equal(stolen.rows.length, 0);
    const teamB = await s.db.query("SELECT 1 FROM sandboxes WHERE team_id = $1", [s.teamB.teamId]);
    assert.equal(teamB.rows.length, 0, "team B created nothing");
  });
});

/** First-message tokens that are not user JWTs at all. */
function notTokens(s: Stack): [string, unknown][] {
  return [
    ["an API key", s.teamA.apiKey],
    ["an empty token", ""],
    ["a number", 12345],
    ["no token", undefined],
  ];
}
