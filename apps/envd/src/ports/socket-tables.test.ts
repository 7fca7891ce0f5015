import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SocketTables } from "./socket-tables.js";

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
/** A row of /proc/net/tcp: 127.0.0.1:port in `state` (hex) with `inode`. */
const row = (sl: number, port: number, state: string, inode: number) =>
  `   ${sl}: 0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

test("SocketTables: rows parsed once per distinct text; listener changes told apart from others", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "envd-tables-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const v4 = join(dir, "tcp");
  const tables = new SocketTables({ v4, v6: join(dir, "tcp6-absent") });
  t.after(() => tables.close());

  await writeFile(v4, HEADER + row(0, 8080, "0A", 111));
  const first = await tables.read();
  assert.deepEqual(
    first.sockets.map((s) => [s.localPort, s.inode]),
    [[8080, 111]],
  );
  assert.equal(first.listenersChanged, true, "the first read changes from nothing");

  const same = await tables.read();
  assert.equal(same.listenersChanged, false);
  assert.equal(same.sockets, first.sockets, "unchanged text: the parsed rows are reused");

  // An established connection appears: the text changes, the listeners do not.
  await writeFile(v4, HEADER + row(0, 8080, "0A", 111) + row(1, 40000, "01", 222));
  const connected = await tables.read();
  assert.equal(connected.sockets.length, 2);
  assert.equal(connected.listenersChanged, false);

  await writeFile(v4, HEADER + row(0, 8080, "0A", 111) + row(1, 9090, "0A", 333));
  assert.equal((await tables.read()).listenersChanged, true, "a new listener");
  await writeFile(v4, HEADER + row(0, 8080, "0A", 444) + row(1, 9090, "0A", 333));
  assert.equal((await tables.read()).listenersChanged, true, "same port, new socket (a restarted server)");
});
