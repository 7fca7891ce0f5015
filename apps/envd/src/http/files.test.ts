import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { readMetadata } from "../filesystem/metadata.js";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { filesUrl, multipartBody, rawRequest, uploadOctet as upload } from "./files-testing.js";

const USER = { authorization: `Basic ${Buffer.from("user:").toString("base64")}` };

describe("/files", { timeout: 20_000 }, () => {
  test("octet-stream and multipart uploads round-trip text and binary", async () => {
    await using t = await useEnvd();
    const text = "héllo wörld\n";
    const path = join(t.dir, "notes", "hello.txt");
    const up = await upload(filesUrl(t.url, { path }), text);
    assert.equal(up.status, 200);
    assert.deepEqual(await up.json(), [{ path, name: "hello.txt", type: "file" }]);
    const down = await fetch(filesUrl(t.url, { path }), { headers: { "accept-encoding": "identity" } });
    assert.equal(down.status, 200);
    assert.equal(await down.text(), text);
    assert.equal(down.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(down.headers.get("content-length"), String(Buffer.byteLength(text)));
    assert.equal(down.headers.get("content-disposition"), 'inline; filename="hello.txt"');
    assert.equal(down.headers.get("accept-ranges"), "bytes");
    assert.match(down.headers.get("etag") ?? "", /^"[0-9a-f-]+"$/);
    assert.ok(Date.parse(down.headers.get("last-modified") ?? "") > 0);

    const bytes = randomBytes(300_000);
    const form = new FormData();
    form.append("file", new Blob([bytes]), join(t.dir, "blob.bin"));
    const multi = await fetch(filesUrl(t.url), { method: "POST", body: form });
    assert.equal(multi.status, 200);
    assert.deepEqual(await multi.json(), [{ path: join(t.dir, "blob.bin"), name: "blob.bin", type: "file" }]);
    const back = Buffer.from(await (await fetch(filesUrl(t.url, { path: join(t.dir, "blob.bin") }))).arrayBuffer());
    assert.ok(back.equals(bytes));
    const st = await stat(join(t.dir, "blob.bin"));
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(st.uid, 0);

    // Empty files, and a non-ASCII name in Content-Disposition.
    const odd = join(t.dir, "日本 (1).txt");
    assert.equal((await upload(filesUrl(t.url, { path: odd }), "")).status, 200);
    const empty = await fetch(filesUrl(t.url, { path: odd }));
    assert.equal(empty.headers.get("content-length"), "0");
    assert.equal(await empty.text(), "");
    assert.equal(
      empty.headers.get("content-disposition"),
      `inline; filename="__ (1).txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%281%29.txt`,
    );
  });

  test("multipart with several files: every part written, filenames are paths", async () => {
    await using t = await useEnvd();
    const form = new FormData();
    form.append("file", new Blob(["one"]), join(t.userHome, "a", "one.txt"));
    form.append("ignored", "a plain field");
    form.append("file", new Blob(["two"]), "rel/two.txt"); // relative: the user's home
    form.append("other", new Blob(["not a file part"]), join(t.userHome, "other.txt"));
    form.append("file", new Blob(["ünï"]), "~/ünï cødé.txt");
    const res = await fetch(filesUrl(t.url, { username: "user" }), { method: "POST", body: form });
    assert.equal(res.status, 200);
    const entries = (await res.json()) as Array<{ path: string }>;
    assert.deepEqual(
      entries.map((e) => e.path),
      [join(t.userHome, "a", "one.txt"), join(t.userHome, "rel", "two.txt"), join(t.userHome, "ünï cødé.txt")],
    );
    assert.equal(await readFile(join(t.userHome, "a", "one.txt"), "utf8"), "one");
    assert.equal(await readFile(join(t.userHome, "rel", "two.txt"), "utf8"), "two");
    assert.equal(await readFile(join(t.userHome, "ünï cødé.txt"), "utf8"), "ünï");
    assert.equal((await stat(join(t.userHome, "a", "one.txt"))).uid, TEST_USER_UID);
    await assert.rejects(stat(join(t.userHome, "other.txt")));

    // Two parts for one path: refused, and neither is written.
    const dup = new FormData();
    dup.append("file", new Blob(["x"]), join(t.dir, "dup.txt"));
    dup.append("file", new Blob(["y"]), join(t.dir, "dup.txt"));
    const bad = await fetch(filesUrl(t.url), { method: "POST", body: dup });
    assert.equal(bad.status, 400);
    await assert.rejects(stat(join(t.dir, "dup.txt")));

    // The path query names the target of a single part (the SDK's write()).
    const single = new FormData();
    single.append("file", new Blob(["by query"]), "whatever-name");
    const byQuery = await fetch(filesUrl(t.url, { path: join(t.dir, "q.txt") }), { method: "POST", body: single });
    assert.equal(byQuery.status, 200);
    assert.equal(await readFile(join(t.dir, "q.txt"), "utf8"), "by query");

    // A form without a "file" part, and a part with neither filename nor path query.
    const none = new FormData();
    none.append("text", "hello");
    assert.equal((await fetch(filesUrl(t.url), { method: "POST", body: none })).status, 400);
    const boundary = "b0undary";
    const nameless = await fetch(filesUrl(t.url), {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: multipartBody(boundary, [{ name: "file", data: "no name" }]),
    });
    assert.equal(nameless.status, 400);
  });

  test("octet-stream needs a path; other content types and encodings are refused", async () => {
    await using t = await useEnvd();
    const noPath = await upload(filesUrl(t.url), "data");
    assert.equal(noPath.status, 400);
    assert.match(((await noPath.json()) as { message: string }).message, /path query parameter is required/);
    const path = join(t.dir, "x.txt");
    assert.equal((await upload(filesUrl(t.url, { path }), "{}", { "content-type": "application/json" })).status, 400);
    assert.equal((await upload(filesUrl(t.url, { path }), "data", { "content-encoding": "br" })).status, 400);
    const wrongGzip = await upload(filesUrl(t.url, { path }), "not gzip", { "content-encoding": "gzip" });
    assert.equal(wrongGzip.status, 400);
    assert.deepEqual(await wrongGzip.json(), { code: 400, message: "request body is not valid gzip data" });
    await assert.rejects(stat(path));
    const dir = await upload(filesUrl(t.url, { path: t.dir }), "data");
    assert.equal(dir.status, 400);
  });

  test("files and parent directories belong to the request's user; modes are kept", async () => {
    await using t = await useEnvd();
    const res = await upload(filesUrl(t.url, { path: "deep/er/file.txt", username: "user" }), "mine");
    assert.equal(res.status, 200);
    for (const p of ["deep", "deep/er", "deep/er/file.txt"]) {
      assert.equal((await stat(join(t.userHome, p))).uid, TEST_USER_UID, p);
    }
    // Basic auth selects the user too, and ~ expands to the user's home.
    assert.equal((await upload(filesUrl(t.url, { path: "~/basic.txt" }), "b", USER)).status, 200);
    assert.equal((await stat(join(t.userHome, "basic.txt"))).uid, TEST_USER_UID);

    const script = join(t.userHome, "run.sh");
    await writeFile(script, "old");
    await chown(script, TEST_USER_UID, TEST_USER_UID);
    await chmod(script, 0o750);
    assert.equal((await upload(filesUrl(t.url, { path: script, username: "user" }), "new")).status, 200);
    const st = await stat(script);
    assert.equal(st.mode & 0o777, 0o750);
    assert.equal(st.uid, TEST_USER_UID);
  });

  test("a user cannot read or write what the kernel would refuse", async () => {
    await using t = await useEnvd();
    const vault = join(t.dir, "vault");
    await mkdir(vault, { mode: 0o700 });
    await writeFile(join(vault, "secret"), "s");
    const denied = await upload(filesUrl(t.url, { path: join(vault, "x.txt"), username: "user" }), "x");
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { message: string }).message, /permission denied/);
    await assert.rejects(stat(join(vault, "x.txt")));
    assert.equal((await fetch(filesUrl(t.url, { path: join(vault, "secret"), username: "user" }))).status, 403);
    const deniedDir = await upload(filesUrl(t.url, { path: join(vault, "new", "x.txt"), username: "user" }), "x");
    assert.equal(deniedDir.status, 403);
    await assert.rejects(stat(join(vault, "new")));

    const secret = join(t.dir, "secret.txt");
    await writeFile(secret, "root only", { mode: 0o600 });
    // Traversal from the user's home ends at the same path and meets the same check.
    const rel = "../../secret.txt";
    assert.equal((await fetch(filesUrl(t.url, { path: rel, username: "user" }))).status, 403);
    const encoded = await rawRequest(`${t.url}/files?username=user&path=%2e%2e%2f%2e%2e%2fsecret.txt`);
    assert.equal(encoded.status, 403);
    assert.equal((await upload(filesUrl(t.url, { path: rel, username: "user" }), "pwned")).status, 403);
    assert.equal(await readFile(secret, "utf8"), "root only");
    // Climbing above / stops at /.
    const up = await fetch(filesUrl(t.url, { path: `${"../".repeat(30)}${secret.slice(1)}`, username: "user" }));
    assert.equal(up.status, 403);
    // NUL bytes never reach the file system.
    assert.equal((await rawRequest(`${t.url}/files?path=a%00b`)).status, 400);
    assert.equal(
      (
        await rawRequest(`${t.url}/files?path=a%00b`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
        })
      ).status,
      400,
    );
  });

  test("X-Metadata-* headers become the file's metadata, replaced on each upload", async () => {
    await using t = await useEnvd();
    const path = join(t.dir, "m.txt");
    const first = await upload(filesUrl(t.url, { path }), "1", {
      "X-Metadata-Author": "mish",
      "x-metadata-purpose": "test",
    });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), [
      { path, name: "m.txt", type: "file", metadata: { author: "mish", purpose: "test" } },
    ]);
    assert.deepEqual(await readMetadata(path), { author: "mish", purpose: "test" });
    assert.equal((await upload(filesUrl(t.url, { path }), "2", { "X-Metadata-Other": "v" })).status, 200);
    assert.deepEqual(await readMetadata(path), { other: "v" });
    assert.equal((await upload(filesUrl(t.url, { path }), "3")).status, 200);
    assert.deepEqual(await readMetadata(path), {});

    // Multipart: every file gets the same metadata.
    const form = new FormData();
    form.append("file", new Blob(["a"]), join(t.dir, "ma.txt"));
    form.append("file", new Blob(["b"]), join(t.dir, "mb.txt"));
    const multi = await fetch(filesUrl(t.url), { method: "POST", body: form, headers: { "X-Metadata-Tag": "both" } });
    assert.equal(multi.status, 200);
    assert.deepEqual(await readMetadata(join(t.dir, "mb.txt")), { tag: "both" });

    const bad = join(t.dir, "bad.txt");
    const tooLongKey = await upload(filesUrl(t.url, { path: bad }), "x", { [`X-Metadata-${"k".repeat(247)}`]: "v" });
    assert.equal(tooLongKey.status, 400);
    const big: Record<string, string> = {};
    for (let i = 0; i < 10; i++) big[`X-Metadata-k${i}`] = "v".repeat(400);
    assert.equal((await upload(filesUrl(t.url, { path: bad }), "x", big)).status, 400);
    const latin = await rawRequest(filesUrl(t.url, { path: bad }), {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-metadata-name": "caf\u00e9" },
      body: Buffer.from("x"),
    });
    assert.equal(latin.status, 400);
    await assert.rejects(stat(bad));
  });
});
