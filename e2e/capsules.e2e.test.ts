import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { uploadGenerated } from "./big-file.js";
import { checkedResponses, referenceJson } from "./reference-check.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";

interface CapsuleJson {
  id: string;
  status: string;
  template: string;
  vcpus: number;
  memory_mb: number;
  host_ip?: string;
}
interface ExecJson {
  stdout: string;
  stderr: string;
  exit_code: number;
  encoding: string;
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe("capsules through the /v1 API (control plane + host agent + namespace runtime)", {
  skip: stackSkipReason,
}, () => {
  let s: Stack;
  let id: string;
  const sh = (cmd: string, extra: Record<string, unknown> = {}) =>
    s.api(`/v1/capsules/${id}/exec`, json({ cmd: "/bin/sh", args: ["-c", cmd], ...extra }));

  before(async () => {
    s = await startStack();
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  test("create → running, listed, readable by its team only", async () => {
    const created = await referenceJson<CapsuleJson>(
      await s.api("/v1/capsules", json({ timeout_sec: 0 })),
      "POST",
      "/v1/capsules",
      201,
    );
    assert.match(created.id, /^cl-[0-9a-z]{25}$/);
    assert.equal(created.status, "running");
    assert.equal(created.template, "minimal");
    id = created.id;
    const list = await referenceJson<CapsuleJson[]>(await s.api("/v1/capsules"), "GET", "/v1/capsules", 200);
    assert.ok(list.some((c) => c.id === id));
    await referenceJson(await s.api(`/v1/capsules/${id}`), "GET", "/v1/capsules/{id}", 200);
    await referenceJson(await s.api(`/v1/capsules/${id}`, { key: s.teamB.apiKey }), "GET", "/v1/capsules/{id}", 404);
    assert.equal((await s.api(`/v1/capsules/${id}`, { key: s.teamB.apiKey })).status, 404);
    const otherList = await body<CapsuleJson[]>(await s.api("/v1/capsules", { key: s.teamB.apiKey }), 200);
    assert.ok(!otherList.some((c) => c.id === id));
    assert.ok(s.audit.entries.some((e) => e.action === "create" && e.resourceId === id));
  });

  test("foreground exec: output, exit code, envs and cwd honoured, binary output as base64", async () => {
    const r = await referenceJson<ExecJson>(
      await sh("echo out; echo err >&2; exit 3"),
      "POST",
      "/v1/capsules/{id}/exec",
      200,
    );
    assert.deepEqual([r.stdout, r.stderr, r.exit_code, r.encoding], ["out\n", "err\n", 3, "utf-8"]);
    const env = await body<ExecJson>(
      await sh('echo "$GREETING $(pwd)"', { envs: { GREETING: "hi" }, cwd: "/tmp" }),
      200,
    );
    assert.equal(env.stdout, "hi /tmp\n");
    const bin = await body<ExecJson>(await sh("printf '\\377\\376'"), 200);
    assert.equal(bin.encoding, "base64");
    assert.deepEqual(Buffer.from(bin.stdout, "base64"), Buffer.from([0xff, 0xfe]));
  });

  test("background exec, process list and kill by tag", async () => {
    const started = await referenceJson<{ pid: number; tag: string }>(
      await sh("sleep 300", { background: true, tag: "sleeper" }),
      "POST",
      "/v1/capsules/{id}/exec",
      202,
    );
    assert.ok(started.pid > 0);
    assert.equal(started.tag, "sleeper");
    const { processes } = await referenceJson<{ processes: { pid: number; tag?: string }[] }>(
      await s.api(`/v1/capsules/${id}/processes`),
      "GET",
      "/v1/capsules/{id}/processes",
      200,
    );
    assert.ok(processes.some((p) => p.tag === "sleeper" && p.pid === started.pid));
    assert.equal((await s.api(`/v1/capsules/${id}/processes/sleeper`, { method: "DELETE" })).status, 204);
  });

  test("files: upload (multipart), read back, list, mkdir conflict, remove", async () => {
    const form = new FormData();
    form.set("path", "/tmp/e2e/hello.txt");
    form.set("file", new Blob(["hello from e2e"]), "hello.txt");
    assert.equal((await s.api(`/v1/capsules/${id}/files/write`, { method: "POST", body: form })).status, 204);
    const read = await s.api(`/v1/capsules/${id}/files/read`, json({ path: "/tmp/e2e/hello.txt" }));
    assert.equal(read.status, 200);
    assert.equal(await read.text(), "hello from e2e");
    const { entries } = await referenceJson<{ entries: { name: string; type: string; size: number }[] }>(
      await s.api(`/v1/capsules/${id}/files/list`, json({ path: "/tmp/e2e" })),
      "POST",
      "/v1/capsules/{id}/files/list",
      200,
    );
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.size]),
      [["hello.txt", "file", 14]],
    );
    await referenceJson(
      await s.api(`/v1/capsules/${id}/files/mkdir`, json({ path: "/tmp/e2e/sub" })),
      "POST",
      "/v1/capsules/{id}/files/mkdir",
      200,
    );
    const again = await s.api(`/v1/capsules/${id}/files/mkdir`, json({ path: "/tmp/e2e/sub" }));
    assert.equal(again.status, 409);
    assert.equal((await s.api(`/v1/capsules/${id}/files/remove`, json({ path: "/tmp/e2e" }))).status, 204);
    const gone = await s.api(`/v1/capsules/${id}/files/read`, json({ path: "/tmp/e2e/hello.txt" }));
    assert.equal(gone.status, 404);
  });

  test("a full tmpfs: 507 insufficient_storage naming the path, nothing left behind, the capsule keeps working", async () => {
    // /dev/shm holds at most half the capsule's 512 MiB.
    const upload = uploadGenerated(
      `${s.base}/v1/capsules/${id}/files/stream/write`,
      { "x-api-key": s.teamA.apiKey },
      "/dev/shm/too-big.bin",
      300 * 1024 * 1024,
    );
    await assert.rejects(upload, /HTTP 507 .*"code":"insufficient_storage".*\/dev\/shm\/too-big\.bin: /);
    const left = await body<ExecJson>(await sh("ls -A /dev/shm; echo alive"), 200);
    assert.equal(left.stdout, "alive\n");
  });

  test("pause keeps memory: a counting process goes on counting after resume", async () => {
    await body(
      await sh("i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done", { background: true }),
      202,
    );
    await new Promise((r) => setTimeout(r, 500));
    const paused = await referenceJson<CapsuleJson>(
      await s.api(`/v1/capsules/${id}/pause`, { method: "POST" }),
      "POST",
      "/v1/capsules/{id}/pause",
      200,
    );
    assert.equal(paused.status, "paused");
    assert.equal((await sh("true")).status, 409, "exec on a paused capsule is a conflict");
    const resumed = await referenceJson<CapsuleJson>(
      await s.api(`/v1/capsules/${id}/resume`, { method: "POST" }),
      "POST",
      "/v1/capsules/{id}/resume",
      200,
    );
    assert.equal(resumed.status, "running");
    const c1 = Number((await body<ExecJson>(await sh("cat /tmp/count"), 200)).stdout);
    await new Promise((r) => setTimeout(r, 400));
    const c2 = Number((await body<ExecJson>(await sh("cat /tmp/count"), 200)).stdout);
    assert.ok(c1 > 0 && c2 > c1, `counter ${c1} → ${c2}`);
  });

  test("the subdomain proxy reaches a server in the capsule (directory listing, no redirect loop)", async () => {
    await body(
      await sh("mkdir -p /srv/site/docs && cd /srv/site && python3 -m http.server 8000", { background: true }),
      202,
    );
    let res: Response | undefined;
    for (let i = 0; i < 50; i++) {
      res = await fetchVia(s.port, `8000-${id}.localhost`, "/docs");
      if (res.status !== 502) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(res);
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), "/docs/");
    const listing = await fetchVia(s.port, `8000-${id}.localhost`, "/docs/");
    assert.equal(listing.status, 200);
    assert.match(await listing.text(), /Directory listing for \/docs\//);
  });

  test("envd behind the port proxy answers only with the capsule's access token", async () => {
    const envd = `49983-${id}.localhost`;
    assert.equal((await fetchVia(s.port, envd, "/health")).status, 200, "health needs no token");
    assert.equal((await fetchVia(s.port, envd, "/envs")).status, 401);
    assert.equal((await fetchVia(s.port, envd, "/files?path=/etc/hostname")).status, 401);
    const wrong = s.cp.envdTokens.forCapsule("cl-0000000000000000000000000");
    assert.equal((await fetchVia(s.port, envd, "/envs", { "x-access-token": wrong })).status, 401);
    const token = s.cp.envdTokens.forCapsule(id);
    const envs = await fetchVia(s.port, envd, "/envs", { "x-access-token": token });
    assert.equal(envs.status, 200);
    assert.equal(((await envs.json()) as Record<string, string>)["WRENN_SANDBOX_ID"], id);
  });

  test("destroy → stopped (kept in history, hidden from the list); again is a no-op", async () => {
    assert.equal((await s.api(`/v1/capsules/${id}`, { method: "DELETE" })).status, 204);
    const got = await body<CapsuleJson>(await s.api(`/v1/capsules/${id}`), 200);
    assert.equal(got.status, "stopped");
    assert.equal((await s.api(`/v1/capsules/${id}`, { method: "DELETE" })).status, 204);
    const list = await body<CapsuleJson[]>(await s.api("/v1/capsules"), 200);
    assert.ok(!list.some((c) => c.id === id));
  });

  test("an all-optional body may be left out (curl -X POST with no data)", async () => {
    const res = await s.api("/v1/capsules", { method: "POST" });
    const created = await body<CapsuleJson>(res, 201);
    assert.equal(created.template, "minimal");
    assert.equal((await s.api(`/v1/capsules/${created.id}`, { method: "DELETE" })).status, 204);
  });

  test("responses of eleven routes were checked against the reference OpenAPI document", () => {
    assert.ok(checkedResponses.size >= 11, [...checkedResponses].join(", "));
  });

  test("bad input and bad credentials: clear 4xx, nothing created", async () => {
    const before = (await body<CapsuleJson[]>(await s.api("/v1/capsules"), 200)).length;
    const cases: Array<[() => Promise<Response>, number]> = [
      [() => s.api("/v1/capsules", json({ vcpus: "two" })), 400],
      [() => s.api("/v1/capsules", json({ memory_mb: 1 })), 400],
      [() => s.api("/v1/capsules", json({ template: "no-such-template" })), 404],
      [() => s.api("/v1/capsules", json({ template: "../etc" })), 400],
      [() => s.api("/v1/capsules", { ...json({}), body: JSON.stringify({ pad: "x".repeat(1_100_000) }) }), 413],
      [() => s.api("/v1/capsules/not-an-id"), 400],
      [() => s.api(`/v1/capsules/cl-${"z".repeat(25)}`), 404],
      [() => s.api("/v1/capsules", { key: "wrn_00000000000000000000000000000000" }), 401],
      [() => fetch(`${s.base}/v1/capsules`), 401],
      [() => fetch(`${s.base}/v1/capsules`, { headers: { authorization: "Bearer nope" } }), 401],
    ];
    for (const [send, status] of cases) {
      const res = await send();
      const b = (await res.json()) as { error?: { code: string; message: string } };
      assert.equal(res.status, status, JSON.stringify(b));
      assert.equal(typeof b.error?.code, "string");
    }
    assert.equal((await body<CapsuleJson[]>(await s.api("/v1/capsules"), 200)).length, before);
  });

  test("a spoofed Upgrade header on a REST route meets its auth: 401, never a socket", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      import("node:http").then(({ request }) => {
        const req = request({
          port: s.port,
          host: "127.0.0.1",
          path: "/v1/capsules",
          headers: {
            upgrade: "websocket",
            connection: "Upgrade",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            "sec-websocket-version": "13",
          },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("upgrade", () => reject(new Error("upgraded")));
        req.on("error", reject);
        req.end();
      }, reject);
    });
    assert.equal(status, 401);
  });
});

function fetchVia(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    import("node:http").then(({ request }) => {
      const req = request({ port, host: "127.0.0.1", path, headers: { ...headers, host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
          resolve(
            new Response(res.statusCode === 301 || res.statusCode === 204 ? null : Buffer.concat(chunks), {
              status: res.statusCode ?? 0,
              headers,
            }),
          );
        });
      });
      req.on("error", reject);
      req.end();
    }, reject);
  });
}
