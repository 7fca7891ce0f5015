import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";
import {
  abortUploadMidway,
  eventually,
  filesUrl,
  multipartBody,
  rawRequest,
  uploadOctet,
  uploadTemps,
} from "./files-testing.js";

const OCTET = { "content-type": "application/octet-stream" };

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe("/files uploads that fail midway change nothing", { timeout: 20_000 }, () => {
  test("octet-stream cut off mid-body: target unchanged, temp file and new dirs removed", async () => {
    await using t = await useEnvd();
    const target = join(t.dir, "keep.txt");
    await writeFile(target, "original");
    await abortUploadMidway(filesUrl(t.url, { path: target }), {
      headers: OCTET,
      declaredLength: 8 << 20,
      prefix: randomBytes(1 << 20),
      ready: async () => (await uploadTemps(t.dir)).length > 0,
    });
    await eventually(async () => (await uploadTemps(t.dir)).length === 0);
    assert.equal(await readFile(target, "utf8"), "original");

    const nested = join(t.dir, "new", "deeper", "file.bin");
    await abortUploadMidway(filesUrl(t.url, { path: nested }), {
      headers: OCTET,
      declaredLength: 8 << 20,
      prefix: randomBytes(1 << 20),
      ready: async () =>
        (await exists(join(t.dir, "new", "deeper"))) && (await uploadTemps(join(t.dir, "new", "deeper"))).length > 0,
    });
    await eventually(async () => !(await exists(join(t.dir, "new"))));
  });

  test("multipart cut off mid-body: no part is committed, even a complete one", async () => {
    await using t = await useEnvd();
    const first = join(t.dir, "first.txt");
    const second = join(t.dir, "second.txt");
    await writeFile(second, "original");
    const boundary = "cut-here";
    const body = multipartBody(boundary, [
      { name: "file", filename: first, data: "complete part" },
      { name: "file", filename: second, data: randomBytes(4 << 20) },
    ]);
    await abortUploadMidway(filesUrl(t.url), {
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      declaredLength: body.length,
      prefix: body.subarray(0, 1 << 20),
      ready: async () => (await uploadTemps(t.dir)).some((n) => n.startsWith(".second.txt.")),
    });
    await eventually(async () => (await uploadTemps(t.dir)).length === 0);
    assert.equal(await exists(first), false);
    assert.equal(await readFile(second, "utf8"), "original");
  });

  test("multipart without its closing boundary, or malformed, is a 400", async () => {
    await using t = await useEnvd();
    const boundary = "bnd";
    const headers = { "content-type": `multipart/form-data; boundary=${boundary}` };
    const target = join(t.dir, "half.txt");
    const truncated = multipartBody(boundary, [{ name: "file", filename: target, data: "abc" }], { complete: false });
    const res = await rawRequest(filesUrl(t.url), { method: "POST", headers, body: truncated });
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body.toString()).message, /malformed multipart body/);
    assert.equal(await exists(target), false);
    assert.deepEqual(await uploadTemps(t.dir), []);

    const noBoundary = await rawRequest(filesUrl(t.url), {
      method: "POST",
      headers: { "content-type": "multipart/form-data" },
      body: Buffer.from("x"),
    });
    assert.equal(noBoundary.status, 400);
    const garbage = await rawRequest(filesUrl(t.url), { method: "POST", headers, body: randomBytes(64 * 1024) });
    assert.equal(garbage.status, 400);
    const badHeader = await rawRequest(filesUrl(t.url), {
      method: "POST",
      headers,
      body: Buffer.from(`--${boundary}\r\nno colon here\r\n\r\ndata\r\n--${boundary}--\r\n`),
    });
    assert.equal(badHeader.status, 400);
    assert.deepEqual(await readdir(t.dir).then((n) => n.filter((x) => x.includes("half"))), []);
    // envd still serves after all of that.
    assert.equal((await fetch(`${t.url}/health`)).status, 200);
  });

  test("a later part that fails rolls back the earlier ones", async () => {
    await using t = await useEnvd();
    const vault = join(t.dir, "vault");
    await mkdir(vault, { mode: 0o700 });
    const form = new FormData();
    form.append("file", new Blob(["ok"]), "~/fine.txt");
    form.append("file", new Blob(["no"]), join(vault, "denied.txt"));
    const res = await fetch(filesUrl(t.url, { username: "user" }), { method: "POST", body: form });
    assert.equal(res.status, 403);
    assert.equal(await exists(join(t.userHome, "fine.txt")), false);
    assert.deepEqual(await uploadTemps(t.userHome), []);
  });

  test("refused uploads with large unread bodies leave envd serving", async () => {
    await using t = await useEnvd();
    const vault = join(t.dir, "vault");
    await mkdir(vault, { mode: 0o700 });
    for (const encoding of ["identity", "gzip"]) {
      const url = filesUrl(t.url, { path: join(vault, "x.bin"), username: "user" });
      const res = await rawRequest(url, {
        method: "POST",
        headers: { ...OCTET, "content-encoding": encoding },
        body: randomBytes(16 << 20),
      }).catch((err: unknown) => err);
      // The client may see the 403 or, having not finished sending, a reset; envd must survive either way.
      if (!(res instanceof Error)) assert.equal((res as { status: number }).status, 403);
    }
    await abortUploadMidway(filesUrl(t.url, { path: join(vault, "y.bin"), username: "user" }), {
      headers: OCTET,
      declaredLength: 8 << 20,
      prefix: randomBytes(1 << 20),
      ready: async () => true,
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${t.url}/health`)).status, 200);
  });

  test("concurrent uploads to one path: the file is always one whole upload", async () => {
    await using t = await useEnvd();
    const path = join(t.dir, "race.bin");
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(256 * 1024, i));
    const results = await Promise.all(bodies.map((b) => uploadOctet(filesUrl(t.url, { path }), b)));
    assert.deepEqual(
      results.map((r) => r.status),
      bodies.map(() => 200),
    );
    const final = await readFile(path);
    assert.ok(bodies.some((b) => b.equals(final)));
    assert.deepEqual(await uploadTemps(t.dir), []);
  });

  test("a full disk answers 507 and leaves nothing behind", {
    skip: process.getuid?.() !== 0 && "needs root to mount a small tmpfs",
  }, async () => {
    await using t = await useEnvd();
    const small = join(t.dir, "small");
    await mkdir(small);
    // Test-only: a 1 MiB tmpfs is the one reliable way to make writes fail with ENOSPC.
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small]);
    try {
      const target = join(small, "big.bin");
      const res = await rawRequest(filesUrl(t.url, { path: target }), {
        method: "POST",
        headers: OCTET,
        body: randomBytes(3 << 20),
      });
      assert.equal(res.status, 507);
      assert.deepEqual(JSON.parse(res.body.toString()), { code: 507, message: "not enough disk space available" });
      assert.deepEqual(await readdir(small), []);
    } finally {
      execFileSync("umount", [small]);
    }
  });
});
