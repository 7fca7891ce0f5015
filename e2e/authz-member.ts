/**
 * The member part of the authorization matrix: capsule, file, process,
 * snapshot and WebSocket routes have no role checks (inventory §5.14), so a
 * plain `member` of team A runs every one of them, in catalog order, on a
 * capsule of their own — lifecycle routes last.
 */
import assert from "node:assert/strict";
import type { ApiRoute } from "@wrenn/api-schema";
import { createTeamsRepo } from "../apps/control-plane/src/teams/teams.repo.js";
import { createTestUser } from "../apps/control-plane/src/testing/repo-fixtures.js";
import type { MatrixWorld } from "./matrix-world.js";
import { isWebSocket, type ResourceRefs, sendRoute, urlFor, validJsonBody } from "./route-matrix.js";
import type { Stack } from "./stack.js";
import { probeWs } from "./ws-probe.js";

const DIR = "/tmp/member";
const FILE = `${DIR}/f.txt`;
const TAG = "member-proc";
const TEMPLATE = "member-template";

/** Routes that change the capsule's state, run last and in this order. */
const LAST = [
  "killProcess",
  "pauseCapsule",
  "resumeCapsule",
  "createSnapshot",
  "listSnapshots",
  "deleteSnapshot",
  "destroyCapsule",
];

function bodies(capsuleId: string): Readonly<Record<string, Record<string, unknown>>> {
  return {
    execCommand: { cmd: "/bin/true" },
    downloadFile: { path: FILE },
    streamDownloadFile: { path: FILE },
    listDir: { path: DIR },
    makeDir: { path: `${DIR}/dir` },
    removePath: { path: `${DIR}/dir` },
    createSnapshot: { sandbox_id: capsuleId, name: TEMPLATE },
  };
}

function upload(): FormData {
  const form = new FormData();
  form.set("path", FILE);
  form.set("file", new Blob(["member"]), "f.txt");
  return form;
}

function order(routes: readonly ApiRoute[]): ApiRoute[] {
  const rank = (r: ApiRoute) => LAST.indexOf(r.operationId);
  return [...routes].sort((a, b) => rank(a) - rank(b));
}

/**
 * Makes a member of team A and runs every route of `routes` (the served
 * capsule and snapshot routes) with the member's JWT, asserting success.
 */
export async function runMemberThroughCapsuleRoutes(
  s: Stack,
  world: MatrixWorld,
  routes: readonly ApiRoute[],
): Promise<void> {
  const user = await createTestUser(s.db);
  await createTeamsRepo(s.db).addMember({ teamId: s.teamA.teamId, userId: user.id, role: "member" });
  const token = world.jwtFor(user.id, s.teamA.teamId, "member");
  const headers = { authorization: `Bearer ${token}` };

  const create = routes.find((r) => r.operationId === "createCapsule");
  assert.ok(create, "createCapsule is served");
  const created = await sendRoute(s.base, create, create.url, { headers, body: {} });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = (await created.json()) as { id: string };
  const background = await s.api(`/v1/capsules/${id}/exec`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ cmd: "/bin/sleep", args: ["3600"], background: true, tag: TAG }),
  });
  assert.equal(background.status, 202, await background.text());

  const refs: ResourceRefs = {
    ...world.refs,
    ids: { ...world.refs.ids, capsule: id },
    selector: TAG,
    template: TEMPLATE,
  };
  const ran: string[] = [];
  for (const route of order(routes.filter((r) => r !== create))) {
    const path = urlFor(route, refs);
    if (isWebSocket(route)) await memberWebSocket(s, route, path, token);
    else {
      const body = route.multipart !== undefined ? upload() : validJsonBody(route, bodies(id)[route.operationId]);
      const res = await sendRoute(s.base, route, path, { headers, body });
      const text = await res.text();
      assert.ok(res.status >= 200 && res.status < 300, `${route.operationId} as a member: ${res.status} ${text}`);
    }
    ran.push(route.operationId);
  }
  assert.equal(ran.length, routes.length - 1, "every route ran");
}

/** A member's WebSocket: authenticated by the first message, it starts (and, for commands, exits) without error. */
async function memberWebSocket(s: Stack, route: ApiRoute, path: string, token: string): Promise<void> {
  const hasStart = /xecStream|tySession/.test(route.operationId);
  const result = await probeWs(`${s.base.replace("http", "ws")}${path}`, {
    send: [{ type: "auth", token }, ...(hasStart ? [{ type: "start", cmd: "/bin/echo", args: ["member"] }] : [])],
    waitMs: hasStart ? 5000 : 1500,
  });
  const types = result.messages.map((m) => m.type);
  const where = `${route.operationId} as a member: ${JSON.stringify(result.messages).slice(0, 300)}`;
  assert.ok(!types.includes("error"), where);
  assert.ok(types.includes("start") || types.includes("started"), where);
  if (hasStart) assert.ok(types.includes("exit"), where);
}
