import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { useEnvd } from "../testing/test-envd.js";
import { eventually, filesUrl, multipartBody, rawRequest, uploadOctet as upload } from "./files-testing.js";

describe("GET /files", { timeout: 20_000 }, () => {
  test("gzip request bodies are decoded; gzip downloads are negotiated", async () => {
    await using t = await useEnvd();
    const text = "compress me ".repeat(10_000);
    const path = join(t.dir, "z.txt");
    const up = await upload(filesUrl(t.url, { path }), gzipSync(text), { "content-encoding": "gzip" });
    assert.equal(up.status, 200);
    assert.equal(await readFile(path, "utf8"), text);

    const boundary = "zz";
    const multi = await fetch(filesUrl(t.url), {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-encoding": "gzip" },
      body: gzipSync(multipartBody(boundary, [{ name: "file", filename: join(t.dir, "mz.txt"), data: text }])),
    });
    assert.equal(multi.status, 200);
    assert.equal(await readFile(join(t.dir, "mz.txt"), "utf8"), text);

    const gz = await rawRequest(filesUrl(t.url, { path }), { headers: { "accept-encoding": "gzip" } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gz.headers["content-length"], undefined);
    assert.equal(gz.headers.vary, "Accept-Encoding");
    assert.ok(gz.body.length < text.length / 10);
    assert.equal(gunzipSync(gz.body).toString(), text);

    const plain = await rawRequest(filesUrl(t.url, { path }));
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString(), text);
    // Range forces identity even when gzip is accepted.
    const ranged = await rawRequest(filesUrl(t.url, { path }), {
      headers: { "accept-encoding": "gzip", range: "bytes=0-7" },
    });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.body.toString(), "compress");
    // Already-compressed files are not compressed again.
    await writeFile(join(t.dir, "a.zip"), "PK...");
    const zip = await rawRequest(filesUrl(t.url, { path: join(t.dir, "a.zip") }), {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(zip.headers["content-encoding"], undefined);
    // Large incompressible files go out as they are (gzip would only cost CPU); compressible ones are gzipped.
    await writeFile(join(t.dir, "noise.bin"), randomBytes(1 << 20));
    const noise = await rawRequest(filesUrl(t.url, { path: join(t.dir, "noise.bin") }), {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(noise.headers["content-encoding"], undefined);
    assert.equal(noise.headers["content-length"], String(1 << 20));
    await writeFile(join(t.dir, "words.bin"), "word ".repeat(300_000));
    const words = await rawRequest(filesUrl(t.url, { path: join(t.dir, "words.bin") }), {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(words.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(words.body).length, 1_500_000);
    // ...unless identity is refused.
    const forced = await rawRequest(filesUrl(t.url, { path: join(t.dir, "noise.bin") }), {
      headers: { "accept-encoding": "gzip, identity;q=0" },
    });
    assert.equal(forced.headers["content-encoding"], "gzip");
    // Neither identity nor gzip acceptable: 406.
    const none = await rawRequest(filesUrl(t.url, { path }), { headers: { "accept-encoding": "br, identity;q=0" } });
    assert.equal(none.status, 406);
    assert.deepEqual(JSON.parse(none.body.toString()), {
      code: 406,
      message: "no acceptable encoding found, supported: [identity, gzip]",
    });
  });

  test("Range, If-Range, conditional requests and HEAD", async () => {
    await using t = await useEnvd();
    const path = join(t.dir, "digits.txt");
    await writeFile(path, "0123456789");
    const url = filesUrl(t.url, { path });
    const part = await rawRequest(url, { headers: { range: "bytes=2-5" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], "bytes 2-5/10");
    assert.equal(part.headers["content-length"], "4");
    assert.equal(part.body.toString(), "2345");
    assert.equal((await rawRequest(url, { headers: { range: "bytes=-3" } })).body.toString(), "789");
    assert.equal((await rawRequest(url, { headers: { range: "bytes=7-" } })).body.toString(), "789");
    const beyond = await rawRequest(url, { headers: { range: "bytes=10-" } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers["content-range"], "bytes */10");
    const multi = await rawRequest(url, { headers: { range: "bytes=0-1,4-5" } });
    assert.equal(multi.status, 200);
    assert.equal(multi.body.toString(), "0123456789");

    const full = await rawRequest(url);
    const etag = String(full.headers.etag);
    const stale = await rawRequest(url, { headers: { range: "bytes=0-0", "if-range": '"other"' } });
    assert.equal(stale.status, 200);
    const fresh = await rawRequest(url, { headers: { range: "bytes=0-0", "if-range": etag } });
    assert.equal(fresh.status, 206);
    assert.equal((await rawRequest(url, { headers: { "if-none-match": etag } })).status, 304);
    const lastModified = String(full.headers["last-modified"]);
    assert.equal((await rawRequest(url, { headers: { "if-modified-since": lastModified } })).status, 304);

    const head = await rawRequest(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "10");
    assert.equal(head.body.length, 0);
  });

  test("missing files, directories and devices", async () => {
    await using t = await useEnvd();
    const missing = await fetch(filesUrl(t.url, { path: join(t.dir, "nope.txt") }));
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { code: 404, message: `path '${join(t.dir, "nope.txt")}' does not exist` });
    assert.equal((await fetch(filesUrl(t.url, { path: join(t.dir, "nope", "deeper") }))).status, 404);
    assert.equal((await fetch(filesUrl(t.url, { path: t.dir }))).status, 400);
    assert.equal((await fetch(filesUrl(t.url, { path: "/dev/null" }))).status, 400);
    const unknown = await fetch(filesUrl(t.url, { path: "x", username: "nobody" }));
    assert.equal(unknown.status, 401);
    assert.equal(((await unknown.json()) as { code: number }).code, 401);
  });

  test("a client that hangs up mid-download releases the file", async () => {
    await using t = await useEnvd();
    const path = join(t.dir, "long.bin");
    await writeFile(path, randomBytes(32 << 20));
    const controller = new AbortController();
    const res = await fetch(filesUrl(t.url, { path }), { signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    // envd runs in this process: its open descriptors are ours.
    await eventually(async () => !(await openFds()).includes(path));
    assert.equal((await fetch(`${t.url}/health`)).status, 200);
  });
});

async function openFds(): Promise<string[]> {
  const fds = await readdir("/proc/self/fd");
  return Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")));
}
