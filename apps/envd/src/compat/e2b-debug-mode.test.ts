import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { Sandbox } from "e2b";
import { startEnvd } from "../server.js";
import { ENVD_VERSION } from "../version.js";

const ENVD_PORT = 49983;

/** True when nothing listens on localhost:49983 (e.g. a developer's `./wrenn envd`). */
function portFree(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(ENVD_PORT, "localhost", () => probe.close(() => resolve(true)));
  });
}

const free = await portFree();

test("the unchanged SDK in debug mode (envd on localhost:49983, no options) runs a command and moves a file", {
  timeout: 30_000,
  skip: free ? false : "localhost:49983 is in use (a dev envd?); the other compat tests cover the same paths",
}, async () => {
  await using envd = await startEnvd({
    port: ENVD_PORT,
    host: "localhost",
    version: ENVD_VERSION,
    runDir: "/tmp/wrenn-debug-mode-run",
    defaultUser: "root",
    etcDir: "/etc",
    forwardAddress: undefined,
    log: new MemoryLogger(),
  });
  assert.ok(envd.url);
  const sbx = await Sandbox.create({ debug: true });
  const result = await sbx.commands.run("echo debug-mode; id -u");
  assert.equal(result.stdout, "debug-mode\n0\n");
  const path = `/tmp/wrenn-debug-mode-${process.pid}.txt`;
  await sbx.files.write(path, "via debug mode");
  assert.equal(await sbx.files.read(path), "via debug mode");
  await sbx.files.remove(path);
  assert.equal(await sbx.files.exists(path), false);
});
