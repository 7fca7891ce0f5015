import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ProcFileReader } from "./proc-file-reader.js";
import { countAfter, SocketCountProbe } from "./socket-count-probe.js";

const sockstat = (inuse: number) =>
  `sockets: used 9\nTCP: inuse ${inuse} orphan 0 tw 3 alloc 7 mem 1\nUDP: inuse 0 mem 0\n`;
const sockstat6 = (inuse: number) => `TCP6: inuse ${inuse}\nUDP6: inuse 0\n`;

async function useDir() {
  const dir = await mkdtemp(join(tmpdir(), "envd-probe-"));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

describe("SocketCountProbe", () => {
  test("changes when either count changes, re-reading through its open descriptors", async () => {
    await using d = await useDir();
    const files = { v4: join(d.dir, "sockstat"), v6: join(d.dir, "sockstat6") };
    await writeFile(files.v4, sockstat(2));
    await writeFile(files.v6, sockstat6(1));
    const probe = new SocketCountProbe(files);
    const first = probe.read();
    assert.equal(first, 2 * 2 ** 26 + 1);
    assert.equal(probe.read(), first, "unchanged files, same value");
    await writeFile(files.v6, sockstat6(2));
    const second = probe.read();
    assert.notEqual(second, first);
    await writeFile(files.v4, sockstat(3));
    assert.notEqual(probe.read(), second);
    probe.close();
  });

  test("no sockstat6 (no IPv6) counts as 0; no sockstat or another format is unreadable", async () => {
    await using d = await useDir();
    const v4 = join(d.dir, "sockstat");
    await writeFile(v4, sockstat(4));
    assert.equal(new SocketCountProbe({ v4, v6: join(d.dir, "none") }).read(), 4 * 2 ** 26);
    assert.equal(new SocketCountProbe({ v4: join(d.dir, "none"), v6: join(d.dir, "none6") }).read(), undefined);
    await writeFile(v4, "sockets: used 1\nTCP: in use 4\n");
    assert.equal(new SocketCountProbe({ v4, v6: join(d.dir, "none") }).read(), undefined);
  });

  test("reads this machine's /proc/net/sockstat", () => {
    const value = new SocketCountProbe().read();
    assert.ok(value !== undefined && Number.isInteger(value) && value >= 0);
  });
});

describe("countAfter", () => {
  test("parses the digits after the marker; none is undefined", () => {
    const marker = Buffer.from("inuse ");
    assert.equal(countAfter(Buffer.from("TCP: inuse 1234 orphan 0"), marker), 1234);
    assert.equal(countAfter(Buffer.from("TCP: inuse 7"), marker), 7);
    assert.equal(countAfter(Buffer.from("TCP: inuse x"), marker), undefined);
    assert.equal(countAfter(Buffer.from("TCP: used 1"), marker), undefined);
  });
});

describe("ProcFileReader", () => {
  test("grows its buffer until one read holds the whole file; sync and async agree", async () => {
    await using d = await useDir();
    const path = join(d.dir, "big");
    const text = "0123456789abcdef".repeat(1000);
    await writeFile(path, text);
    const reader = new ProcFileReader(path, { initialBytes: 64 });
    assert.equal((await reader.read()).toString(), text);
    assert.equal(reader.readSync().toString(), text);
    await writeFile(path, "short");
    assert.equal((await reader.read()).toString(), "short", "re-read from offset 0 through the same descriptor");
    reader.close();
  });

  test("a missing file is empty when optional and an ENOENT error otherwise", async () => {
    await using d = await useDir();
    const path = join(d.dir, "absent");
    assert.equal(new ProcFileReader(path, { optional: true }).readSync().length, 0);
    assert.equal((await new ProcFileReader(path, { optional: true }).read()).length, 0);
    await assert.rejects(new ProcFileReader(path).read(), { code: "ENOENT" });
  });

  test("reads a /proc seq file whole (the header of /proc/net/tcp)", async () => {
    const reader = new ProcFileReader("/proc/net/tcp", { initialBytes: 128 });
    const [header] = (await reader.read()).toString("latin1").split("\n");
    const [expected] = (await readFile("/proc/net/tcp", "latin1")).split("\n");
    assert.equal(header, expected);
    reader.close();
  });
});
