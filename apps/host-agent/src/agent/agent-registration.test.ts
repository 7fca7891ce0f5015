import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { freePort } from "@wrenn/kit";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { agentPaths } from "../config.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { netnsSkipReason } from "../net/netns-test-helpers.js";
import { startCpStandIn } from "../registration/cp-stand-in-test-helpers.js";
import { until } from "../sandboxes/sandbox-test-helpers.js";
import { startTestAgent } from "./agent-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/usr/sbin/debootstrap") && !existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image and no debootstrap to build one"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

describe("agent registration with a stand-in control plane (privileged)", { skip, timeout: 600_000 }, () => {
  before(async () => {
    await buildImage({ wrennDir: "/var/lib/wrenn", template: MINIMAL_TEMPLATE, sources, runner });
  });

  it("--register saves credentials and serves mTLS with the issued certificate; a restart reuses them; a deleted host stops the agent", async () => {
    await using cp = await startCpStandIn();
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const env = { WRENN_CP_URL: cp.url, WRENN_HOST_ADDRESS: address, WRENN_HOST_LISTEN_ADDR: address };
    const cpCert = await cp.ca.issue("wrenn-cp", "client");
    const mtls = (url: string) =>
      createClient(
        HostAgentService,
        createConnectTransport({
          baseUrl: url,
          httpVersion: "1.1",
          nodeOptions: { ca: cp.ca.ca.certPem, cert: cpCert.certPem, key: cpCert.keyPem },
        }),
      );
    let credentials = "";
    let hostId = "";
    {
      await using ta = await startTestAgent(env, ["--register", cp.issueToken()]);
      credentials = agentPaths(ta.config).credentials;
      assert.equal((await stat(credentials)).mode & 0o777, 0o600);
      assert.equal(ta.agent.url, `https://${address}`);
      assert.equal((await mtls(ta.agent.url).getHostInfo({})).runtime, "namespace");
      await assert.rejects(ta.client.getHostInfo({}), "plain HTTP is not served");
      hostId = [...cp.hosts.keys()][0] ?? "";
      const host = cp.hosts.get(hostId);
      assert.ok(await until(() => (host?.heartbeats ?? 0) >= 1, 5000), "heartbeat at start");
      assert.equal(host?.facts["address"], address);

      // Same state dir, no --register: the saved credentials are used.
      await ta.agent.shutdown("restart");
      {
        await using again = await startTestAgent({ ...env, WRENN_DIR: ta.config.wrennDir });
        assert.equal((await mtls(again.agent.url).getHostInfo({})).runtime, "namespace");
        assert.equal(cp.calls.filter((c) => c === "register").length, 1);
      }

      // The control plane deleted the host: the first heartbeat answers 404.
      cp.deleteHost(hostId);
      await using third = await startTestAgent({ ...env, WRENN_DIR: ta.config.wrennDir });
      assert.equal(await third.agent.stopped, "host deleted by the control plane");
      assert.equal(existsSync(credentials), false, "credentials deleted");
    }
  });
});
