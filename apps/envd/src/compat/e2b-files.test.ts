import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FilesystemEventType, FileType, NotFoundError } from "e2b";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";
import { sdkSandbox, setAccessToken } from "./sdk-sandbox.js";

describe("e2b SDK: files", { timeout: 60_000 }, () => {
  test("text and binary write/read, as root and as user", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const textPath = join(t.dir, "notes", "hello.txt");
    const info = await sbx.files.write(textPath, "héllo wörld\n");
    assert.equal(info.path, textPath);
    assert.equal(await sbx.files.read(textPath), "héllo wörld\n");

    const bytes = randomBytes(300_000);
    await sbx.files.write(join(t.dir, "blob.bin"), new Blob([bytes]));
    const back = await sbx.files.read(join(t.dir, "blob.bin"), { format: "bytes" });
    assert.ok(Buffer.from(back).equals(bytes));

    // As `user`, a relative path lands in the user's home and the file is theirs.
    await sbx.files.write("mine.txt", "owned", { user: "user" });
    const st = await stat(join(t.userHome, "mine.txt"));
    assert.equal(st.uid, TEST_USER_UID);
    assert.equal(await sbx.files.read("~/mine.txt", { user: "user" }), "owned");

    await assert.rejects(sbx.files.read(join(t.dir, "missing.txt")), NotFoundError);
  });

  test("writeFiles sends several files in one request", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const infos = await sbx.files.write([
      { path: join(t.dir, "a", "one.txt"), data: "1" },
      { path: join(t.dir, "b", "two.txt"), data: "2" },
    ]);
    assert.equal(infos.length, 2);
    assert.equal(await readFile(join(t.dir, "a", "one.txt"), "utf8"), "1");
    assert.equal(await readFile(join(t.dir, "b", "two.txt"), "utf8"), "2");
  });

  test("list with depth, exists, getInfo, makeDir, rename, remove", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const root = join(t.dir, "tree");
    await mkdir(join(root, "a", "b"), { recursive: true });
    await writeFile(join(root, "a", "b", "deep.txt"), "deep");
    await writeFile(join(root, "top.txt"), "top");
    await symlink(join(root, "top.txt"), join(root, "link"));

    const shallow = await sbx.files.list(root);
    assert.deepEqual(shallow.map((e) => e.name).sort(), ["a", "link", "top.txt"]);
    const deep = await sbx.files.list(root, { depth: 3 });
    assert.ok(deep.some((e) => e.path === join(root, "a", "b", "deep.txt")));
    const link = shallow.find((e) => e.name === "link");
    assert.equal(link?.symlinkTarget, join(root, "top.txt"));

    const top = await sbx.files.getInfo(join(root, "top.txt"));
    assert.equal(top.type, FileType.FILE);
    assert.equal(top.size, 3);
    assert.equal(top.owner, "root");
    assert.match(top.permissions, /^-rw/);
    assert.ok(top.modifiedTime instanceof Date);

    assert.equal(await sbx.files.exists(join(root, "top.txt")), true);
    assert.equal(await sbx.files.exists(join(root, "nope")), false);

    assert.equal(await sbx.files.makeDir(join(root, "new", "nested")), true);
    assert.equal(await sbx.files.makeDir(join(root, "new", "nested")), false, "existing dir reports false");

    const moved = await sbx.files.rename(join(root, "top.txt"), join(root, "moved", "top.txt"));
    assert.equal(moved.path, join(root, "moved", "top.txt"));
    assert.equal(await sbx.files.exists(join(root, "top.txt")), false);

    await sbx.files.remove(join(root, "a"));
    assert.equal(await sbx.files.exists(join(root, "a")), false);
  });

  test("watchDir reports creates, writes and removes, recursively", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const dir = join(t.dir, "watched");
    await mkdir(dir);
    const events: Array<{ name: string; type: FilesystemEventType }> = [];
    const handle = await sbx.files.watchDir(dir, (e) => void events.push({ name: e.name, type: e.type }), {
      recursive: true,
      timeoutMs: 0,
    });
    await writeFile(join(dir, "new.txt"), "x");
    await mkdir(join(dir, "sub"));
    await waitFor(() => events.some((e) => e.name === "sub" && e.type === FilesystemEventType.CREATE));
    await writeFile(join(dir, "sub", "inner.txt"), "y");
    await sbx.files.remove(join(dir, "new.txt"));
    await waitFor(
      () =>
        events.some((e) => e.name === "new.txt" && e.type === FilesystemEventType.CREATE) &&
        events.some((e) => e.name === join("sub", "inner.txt") && e.type === FilesystemEventType.CREATE) &&
        events.some((e) => e.name === "new.txt" && e.type === FilesystemEventType.REMOVE),
    );
    await handle.stop();
  });

  test("signed upload and download URLs when an access token is set", async () => {
    await using t = await useEnvd();
    const token = randomBytes(16).toString("hex");
    await setAccessToken(t, token);
    const sbx = await sdkSandbox(t, { accessToken: token });
    const path = join(t.dir, "signed.txt");

    const uploadUrl = await sbx.uploadUrl(path, { useSignatureExpiration: 60 });
    const form = new FormData();
    form.append("file", new Blob(["signed content"]), "signed.txt");
    const up = await fetch(uploadUrl, { method: "POST", body: form });
    assert.equal(up.status, 200);

    const downloadUrl = await sbx.downloadUrl(path);
    const down = await fetch(downloadUrl);
    assert.equal(down.status, 200);
    assert.equal(await down.text(), "signed content");

    // Without the signature, and without the token header, envd refuses.
    const bare = new URL(downloadUrl);
    bare.searchParams.delete("signature");
    assert.equal((await fetch(bare)).status, 401);
    // A signature for another path does not open this one.
    const other = new URL(await sbx.downloadUrl(join(t.dir, "other.txt")));
    other.searchParams.set("path", path);
    assert.equal((await fetch(other)).status, 401);
    // The SDK itself (token header) still works.
    assert.equal(await sbx.files.read(path), "signed content");
  });
});
