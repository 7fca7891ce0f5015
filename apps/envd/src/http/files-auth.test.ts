import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TEST_USER_UID, type TestEnvd, useEnvd } from "../testing/test-envd.js";
import { filesUrl } from "./files-testing.js";

/** The e2b SDK's signature, computed independently of envd's own code. */
function sign(parts: { path: string; op: "read" | "write"; user: string; token: string; exp?: number }): string {
  const raw = [parts.path, parts.op, parts.user, parts.token, ...(parts.exp === undefined ? [] : [String(parts.exp)])];
  return `v1_${createHash("sha256").update(raw.join(":")).digest("base64").replace(/=+$/, "")}`;
}

async function withToken(t: TestEnvd): Promise<string> {
  const token = randomBytes(16).toString("hex");
  const res = await fetch(`${t.url}/init`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ accessToken: token }),
  });
  assert.equal(res.status, 204);
  return token;
}

async function message(res: Response): Promise<string> {
  return ((await res.json()) as { message: string }).message;
}

describe("/files authentication", { timeout: 20_000 }, () => {
  test("without a token configured, no credentials are needed", async () => {
    await using t = await useEnvd();
    await writeFile(join(t.dir, "open.txt"), "open");
    assert.equal(await (await fetch(filesUrl(t.url, { path: join(t.dir, "open.txt") }))).text(), "open");
  });

  test("X-Access-Token is required once /init set a token", async () => {
    await using t = await useEnvd();
    const token = await withToken(t);
    const path = join(t.dir, "a.txt");
    await writeFile(path, "data");
    const url = filesUrl(t.url, { path });
    const bare = await fetch(url);
    assert.equal(bare.status, 401);
    assert.match(await message(bare), /missing access token or signature/);
    const wrong = await fetch(url, { headers: { "x-access-token": "nope" } });
    assert.equal(wrong.status, 401);
    assert.match(await message(wrong), /does not match/);
    assert.equal((await fetch(url, { headers: { "x-access-token": token } })).status, 200);
    const up = await fetch(filesUrl(t.url, { path: join(t.dir, "b.txt") }), {
      method: "POST",
      headers: { "x-access-token": token, "content-type": "application/octet-stream" },
      body: "b",
    });
    assert.equal(up.status, 200);
    const upBare = await fetch(filesUrl(t.url, { path: join(t.dir, "c.txt") }), {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "c",
    });
    assert.equal(upBare.status, 401);
    await assert.rejects(stat(join(t.dir, "c.txt")));
  });

  test("signed URLs: valid, wrong, expired, for another operation, bad expiration", async () => {
    await using t = await useEnvd();
    const token = await withToken(t);
    const path = join(t.userHome, "s.txt");
    const now = Math.floor(Date.now() / 1000);

    // Upload as user with an expiring write signature.
    const exp = now + 60;
    const upUrl = filesUrl(t.url, {
      path,
      username: "user",
      signature: sign({ path, op: "write", user: "user", token, exp }),
      signature_expiration: String(exp),
    });
    const up = await fetch(upUrl, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "signed",
    });
    assert.equal(up.status, 200);
    assert.equal((await stat(path)).uid, TEST_USER_UID);

    const read = (query: Record<string, string>) => fetch(filesUrl(t.url, { path, username: "user", ...query }));
    const good = await read({ signature: sign({ path, op: "read", user: "user", token }) });
    assert.equal(good.status, 200);
    assert.equal(await good.text(), "signed");

    const forWrite = await read({ signature: sign({ path, op: "write", user: "user", token }) });
    assert.equal(forWrite.status, 401);
    assert.equal(await message(forWrite), "invalid signature");
    const otherUser = await read({ signature: sign({ path, op: "read", user: "", token }) });
    assert.equal(otherUser.status, 401);
    const otherToken = await read({ signature: sign({ path, op: "read", user: "user", token: "guess" }) });
    assert.equal(otherToken.status, 401);

    const past = now - 10;
    const expired = await read({
      signature: sign({ path, op: "read", user: "user", token, exp: past }),
      signature_expiration: String(past),
    });
    assert.equal(expired.status, 401);
    assert.equal(await message(expired), "signature has expired");
    // The expiration is part of what is signed: moving it invalidates the signature.
    const moved = await read({
      signature: sign({ path, op: "read", user: "user", token, exp: past }),
      signature_expiration: String(now + 3600),
    });
    assert.equal(moved.status, 401);
    assert.equal(await message(moved), "invalid signature");

    const badExp = await read({ signature: "v1_x", signature_expiration: "soon" });
    assert.equal(badExp.status, 400);
    assert.match(await message(badExp), /signature_expiration/);
  });

  test("a signed upload URL without a path lets multipart filenames choose the target", async () => {
    await using t = await useEnvd();
    const token = await withToken(t);
    const form = new FormData();
    form.append("file", new Blob(["via form"]), join(t.dir, "from-form.txt"));
    const url = filesUrl(t.url, { signature: sign({ path: "", op: "write", user: "", token }) });
    const res = await fetch(url, { method: "POST", body: form });
    assert.equal(res.status, 200);
    assert.equal(await readFile(join(t.dir, "from-form.txt"), "utf8"), "via form");
  });

  test("a signed URL ignores Basic auth: the signature decides the user", async () => {
    await using t = await useEnvd({ defaultUser: "user" });
    const token = await withToken(t);
    const vault = join(t.dir, "vault");
    await mkdir(vault, { mode: 0o700 });
    const path = join(vault, "x.txt");
    const url = filesUrl(t.url, { path, signature: sign({ path, op: "write", user: "", token }) });
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        authorization: `Basic ${Buffer.from("root:").toString("base64")}`,
      },
      body: "escalate",
    });
    assert.equal(res.status, 403, "acts as the default user, not as root");
    await assert.rejects(stat(path));
  });
});
