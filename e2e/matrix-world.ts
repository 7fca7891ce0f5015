/**
 * Test support: the resources the catalog-driven matrices aim at — a running
 * capsule of team A with a file and a background process, a team A template
 * — and the credentials of every kind of caller, built on a started stack.
 */
import assert from "node:assert/strict";
import type { ApiRoute } from "@wrenn/api-schema";
import type { TeamRole } from "../apps/control-plane/src/auth/jwt.js";
import { toPublicId } from "../apps/control-plane/src/ids/public-id.js";
import { createTemplatesRepo } from "../apps/control-plane/src/templates/templates.repo.js";
import type { ResourceRefs } from "./route-matrix.js";
import { json, type Stack } from "./stack.js";

/** A file written into team A's capsule before the matrix runs. */
export const KEEP_FILE = { path: "/tmp/matrix/keep.txt", content: "keep me\n" } as const;
/** Tag of a long-running background process in team A's capsule. */
export const KEEPER_TAG = "matrix-keeper";
/** A team A template (a database row only: the matrices never boot it). */
export const TEAM_A_TEMPLATE = "matrix-team-a-template";

/** What {@link prepareWorld} makes. */
export interface MatrixWorld {
  /** Team A's running capsule. */
  readonly capsuleId: string;
  /** Ids of team A's resources for every path parameter. */
  readonly refs: ResourceRefs;
  /** User JWTs: team A's owner, team B's owner. */
  readonly ownerA: string;
  readonly ownerB: string;
  /** A host token of the stack's host. */
  readonly hostToken: string;
  /** A user JWT for `userId` in `teamId` (UUIDs), signed with the stack's secret. */
  jwtFor(userId: string, teamId: string, role?: TeamRole): string;
  /** Headers of a caller that passes the route's authentication as team A (or the platform admin). */
  credentialsFor(route: ApiRoute): Record<string, string>;
}

async function ok<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

/** Creates team A's capsule (with {@link KEEP_FILE} and {@link KEEPER_TAG}) and template, and the credentials. */
export async function prepareWorld(s: Stack): Promise<MatrixWorld> {
  const { id: capsuleId } = await ok<{ id: string }>(await s.api("/v1/capsules", json({})), 201);
  const exec = (body: unknown, status: number) =>
    s.api(`/v1/capsules/${capsuleId}/exec`, json(body)).then((r) => ok(r, status));
  await exec({ cmd: "/bin/sh", args: ["-c", `mkdir -p /tmp/matrix && printf 'keep me\\n' > ${KEEP_FILE.path}`] }, 200);
  await exec({ cmd: "/bin/sleep", args: ["3600"], background: true, tag: KEEPER_TAG }, 202);
  await createTemplatesRepo(s.db).insert({
    teamId: s.teamA.teamId,
    name: TEAM_A_TEMPLATE,
    type: "snapshot",
    vcpus: 1,
    memoryMb: 512,
    sizeBytes: 1,
  });
  const keys = await s.db.query<{ id: string }>("SELECT id FROM team_api_keys WHERE team_id = $1", [s.teamA.teamId]);
  const apiKeyId = keys.rows[0]?.id;
  assert.ok(apiKeyId);
  const jwtFor = (userId: string, teamId: string, role: TeamRole = "owner") =>
    s.cp.jwt.signUser({
      userId: toPublicId("user", userId),
      teamId: toPublicId("team", teamId),
      role,
      email: "matrix@example.com",
      name: "Matrix",
    });
  const ownerA = jwtFor(s.teamA.userId, s.teamA.teamId);
  const hostToken = s.cp.jwt.signHost(toPublicId("host", s.hostId));
  const refs: ResourceRefs = {
    ids: {
      capsule: capsuleId,
      team: toPublicId("team", s.teamA.teamId),
      user: toPublicId("user", s.teamA.userId),
      host: toPublicId("host", s.hostId),
      apiKey: toPublicId("apiKey", apiKeyId),
      // Kinds without a real resource in the stack: ids of nothing.
      channel: toPublicId("channel", "00000000-0000-4000-8000-0000000000c1"),
      build: toPublicId("build", "00000000-0000-4000-8000-0000000000b1"),
    },
    selector: KEEPER_TAG,
    template: TEAM_A_TEMPLATE,
    hostTag: "matrix-tag",
    provider: "github",
  };
  return {
    capsuleId,
    refs,
    ownerA,
    ownerB: jwtFor(s.teamB.userId, s.teamB.teamId),
    hostToken,
    jwtFor,
    credentialsFor(route): Record<string, string> {
      switch (route.auth) {
        case "key_or_jwt":
        case "ws_optional":
          return { "x-api-key": s.teamA.apiKey };
        case "jwt":
          return { authorization: `Bearer ${ownerA}` };
        case "admin":
          return { authorization: `Bearer ${s.admin.token}` };
        case "host":
          return { "x-host-token": hostToken };
        case "none":
        case "admin_ws":
          return {};
      }
    },
  };
}

/** Asserts that team A's capsule still runs with its file and its background process. */
export async function assertWorldIntact(s: Stack, world: MatrixWorld): Promise<void> {
  const capsule = await ok<{ status: string }>(await s.api(`/v1/capsules/${world.capsuleId}`), 200);
  assert.equal(capsule.status, "running");
  const file = await s.api(`/v1/capsules/${world.capsuleId}/files/read`, json({ path: KEEP_FILE.path }));
  assert.equal(file.status, 200);
  assert.equal(await file.text(), KEEP_FILE.content);
  const { processes } = await ok<{ processes: { tag?: string }[] }>(
    await s.api(`/v1/capsules/${world.capsuleId}/processes`),
    200,
  );
  assert.ok(
    processes.some((p) => p.tag === KEEPER_TAG),
    "the background process still runs",
  );
  const templates = await s.db.query("SELECT 1 FROM templates WHERE team_id = $1 AND name = $2", [
    s.teamA.teamId,
    TEAM_A_TEMPLATE,
  ]);
  assert.equal(templates.rows.length, 1, "the team template is still there");
}
