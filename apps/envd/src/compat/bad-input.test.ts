import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";
import { sdkSandbox, setAccessToken } from "./sdk-sandbox.js";

/** Sends raw bytes on a fresh TCP connection and returns whatever comes back before the server closes it. */
function raw(url: string, payload: string | Buffer, opts: { closeAfterWrite?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port) });
    let out = "";
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (d) => {
      out += d.toString("latin1");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? resolve(out) : reject(err)));
    socket.on("close", () => resolve(out));
    socket.write(payload, () => {
      if (opts.closeAfterWrite) socket.end();
    });
  });
}

const json = { "content-type": "application/json" };

test("a burst of malformed requests gets clear errors and leaves envd healthy", { timeout: 60_000 }, async () => {
  await using t = await useEnvd();
  const u = (p: string) => `${t.url}${p}`;
  const asUser = { authorization: `Basic ${Buffer.from("user:").toString("base64")}` };

  const checks: Array<{ name: string; run: () => Promise<number>; expect: number | number[] }> = [
    {
      name: "traversal to a root-only file as user",
      expect: 403,
      run: async () => (await fetch(u("/files?path=../../../../../etc/shadow&username=user"))).status,
    },
    { name: "NUL byte in path", expect: 400, run: async () => (await fetch(u("/files?path=%2Ftmp%2Fa%00b"))).status },
    {
      name: "unknown user on /files",
      expect: 401,
      run: async () => (await fetch(u("/files?path=/tmp&username=ghost"))).status,
    },
    {
      name: "download of a directory",
      expect: 400,
      run: async () => (await fetch(u(`/files?path=${encodeURIComponent(t.dir)}`))).status,
    },
    {
      name: "octet-stream upload without path",
      expect: 400,
      run: async () =>
        (
          await fetch(u("/files"), {
            method: "POST",
            headers: { "content-type": "application/octet-stream" },
            body: "x",
          })
        ).status,
    },
    {
      name: "invalid JSON to /init",
      expect: 400,
      run: async () => (await fetch(u("/init"), { method: "POST", headers: json, body: "{nope" })).status,
    },
    {
      name: "wrong types to /init",
      expect: 400,
      run: async () => (await fetch(u("/init"), { method: "POST", headers: json, body: '{"envVars":[1,2]}' })).status,
    },
    {
      name: "unknown default user to /init",
      expect: 400,
      run: async () =>
        (await fetch(u("/init"), { method: "POST", headers: json, body: '{"defaultUser":"ghost"}' })).status,
    },
    {
      name: "invalid JSON to a Connect method",
      expect: 400,
      run: async () =>
        (await fetch(u("/process.Process/List"), { method: "POST", headers: json, body: "{nope" })).status,
    },
    {
      name: "garbage protobuf to a Connect method",
      expect: 400,
      run: async () =>
        (
          await fetch(u("/filesystem.Filesystem/Stat"), {
            method: "POST",
            headers: { "content-type": "application/proto" },
            body: new Uint8Array([0xff, 0xff, 0xff, 0x01]),
          })
        ).status,
    },
    {
      name: "unsupported content type",
      expect: 415,
      run: async () =>
        (
          await fetch(u("/process.Process/List"), {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: "{}",
          })
        ).status,
    },
    {
      name: "unknown pid",
      expect: 404,
      run: async () =>
        (
          await fetch(u("/process.Process/SendSignal"), {
            method: "POST",
            headers: json,
            body: '{"process":{"pid":999999},"signal":"SIGNAL_SIGKILL"}',
          })
        ).status,
    },
    {
      name: "unknown tag",
      expect: 404,
      run: async () =>
        (
          await fetch(u("/process.Process/SendInput"), {
            method: "POST",
            headers: json,
            body: '{"process":{"tag":"nope"},"input":{"stdin":"eA=="}}',
          })
        ).status,
    },
    {
      name: "unknown user on a Connect method",
      expect: 401,
      run: async () =>
        (
          await fetch(u("/filesystem.Filesystem/Stat"), {
            method: "POST",
            headers: { ...json, authorization: `Basic ${Buffer.from("ghost:").toString("base64")}` },
            body: '{"path":"/"}',
          })
        ).status,
    },
    {
      name: "listing /root as user",
      expect: 403,
      run: async () =>
        (
          await fetch(u("/filesystem.Filesystem/ListDir"), {
            method: "POST",
            headers: { ...json, ...asUser },
            body: '{"path":"/root"}',
          })
        ).status,
    },
    { name: "unknown route", expect: 404, run: async () => (await fetch(u("/no/such/thing"))).status },
  ];
  const failures: string[] = [];
  for (const c of checks) {
    const status = await c.run();
    const expected = Array.isArray(c.expect) ? c.expect : [c.expect];
    if (!expected.includes(status)) failures.push(`${c.name}: got ${status}, want ${expected.join(" or ")}`);
  }

  // Protocol-level abuse on raw sockets.
  const huge = await raw(t.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`);
  if (!/^HTTP\/1\.1 431/.test(huge)) failures.push(`huge header: got ${huge.slice(0, 40)}`);
  const garbage = await raw(t.url, "\x00\x01\x02 not http at all\r\n\r\n");
  if (!/^HTTP\/1\.1 400/.test(garbage)) failures.push(`garbage: got ${garbage.slice(0, 40)}`);
  const target = `${t.dir}/truncated.bin`;
  const boundary = "----wrenn";
  await raw(
    t.url,
    `POST /files?path=${encodeURIComponent(target)} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.bin"\r\n\r\npartial`,
    { closeAfterWrite: true },
  );

  // Signed-URL abuse once a token is set.
  await setAccessToken(t, "secret-token");
  const withToken = { "x-access-token": "secret-token" };
  const signed: Array<[string, string, number]> = [
    ["no credentials", "/files?path=/tmp", 401],
    ["forged signature", "/files?path=/tmp&signature=v1_forged", 401],
    ["expired signature", "/files?path=/tmp&signature=v1_x&signature_expiration=1", 401],
    ["malformed expiration", "/files?path=/tmp&signature=v1_x&signature_expiration=soon", 400],
  ];
  for (const [name, path, want] of signed) {
    const status = (await fetch(u(path))).status;
    if (status !== want) failures.push(`${name}: got ${status}, want ${want}`);
  }
  const wrongToken = (await fetch(u("/envs"), { headers: { "x-access-token": "wrong" } })).status;
  if (wrongToken !== 401) failures.push(`wrong token on /envs: got ${wrongToken}`);

  assert.deepEqual(failures, []);

  // envd is still healthy and serves normal work.
  assert.equal((await fetch(u("/health"))).status, 200);
  assert.equal(
    (await fetch(u(`/files?path=${encodeURIComponent(target)}`), { headers: withToken })).status,
    404,
    "the truncated upload left no file",
  );
  const sbx = await sdkSandbox(t, { accessToken: "secret-token" });
  const result = await sbx.commands.run("echo still-alive");
  assert.equal(result.stdout, "still-alive\n");
});
