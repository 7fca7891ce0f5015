import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";
import { waitFor } from "../testing/wait-for.js";

/** One Connect streaming envelope (flags 0) carrying a JSON message. */
function envelope(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(json.length, 1);
  return Buffer.concat([header, json]);
}

test("a stream whose client vanishes mid-write releases its subscription (no leaked stream)", {
  timeout: 20_000,
}, async () => {
  await using t = await useEnvd();
  const { hostname, port } = new URL(t.url);
  const body = envelope({ process: { cmd: "yes", args: [] }, tag: "flood" });
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `POST /process.Process/Start HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body);
  // Read the headers, then stop reading: envd's writes back up until it blocks.
  await new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.pause();
  const proc = t.envd.env.processes.byTag("flood");
  assert.ok(proc, "the process is running");
  assert.equal(proc.listenerCount, 1);
  await new Promise((r) => setTimeout(r, 300));

  // The client disappears while envd is blocked writing to it.
  socket.destroy();
  await waitFor(() => proc.listenerCount === 0, 5000);
  assert.equal(proc.running, true, "the process itself keeps running, as after any disconnect");
  proc.signal("SIGKILL");
});
