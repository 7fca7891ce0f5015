import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentPaths, ConfigError, loadConfig } from "./config.js";

function run(env: Record<string, string>, argv: string[] = []) {
  const r = loadConfig(env, argv);
  assert.equal(r.kind, "run");
  if (r.kind !== "run") throw new Error("unreachable");
  return r.config;
}

describe("loadConfig", () => {
  it("has the documented defaults and derives the state paths", () => {
    const c = run({});
    assert.equal(c.wrennDir, "/var/lib/wrenn");
    assert.equal(c.cacheDir, "/var/lib/wrenn");
    assert.deepEqual(c.listen, { host: "127.0.0.1", port: 50051 });
    assert.equal(c.runtime, "auto");
    assert.equal(c.logLevel, "info");
    assert.equal(c.controlPlaneUrl, undefined);
    assert.equal(c.tls, undefined);
    assert.equal(c.allowPlaintext, false);
    assert.deepEqual([c.net.prefix, c.net.subnet, c.net.poolSize], ["wrn", "10.211.0.0/16", 16]);
    assert.deepEqual(agentPaths(c), {
      sandboxes: "/var/lib/wrenn/sandboxes",
      templates: "/var/lib/wrenn/templates",
      pids: "/var/lib/wrenn/run/pids",
      credentials: "/var/lib/wrenn/host-credentials.json",
    });
  });

  it("reads the environment, lets flags win, and freezes the result deeply", () => {
    const c = run(
      {
        WRENN_DIR: "/srv/wrenn/",
        WRENN_HOST_LISTEN_ADDR: "0.0.0.0:7000",
        WRENN_RUNTIME: "qemu",
        WRENN_CP_URL: "https://cp.example.test/",
        LOG_LEVEL: "debug",
        WRENN_NET_PREFIX: "tabc",
        WRENN_NET_POOL: "0",
        WRENN_NET_UPLINKS: "eth0, eth1",
        WRENN_TLS_CERT: "/etc/w/cert.pem",
        WRENN_TLS_KEY: "/etc/w/key.pem",
        WRENN_TLS_CA: "/etc/w/ca.pem",
      },
      ["--runtime=namespace", "--listen", "[::1]:7001", "--register", "abcdef0123456789", "--address", "10.0.0.5:7001"],
    );
    assert.equal(c.wrennDir, "/srv/wrenn");
    assert.equal(c.cacheDir, "/srv/wrenn");
    assert.deepEqual(c.listen, { host: "::1", port: 7001 });
    assert.equal(c.proxyPort, 0, "the proxy thread on any free port by default");
    assert.equal(run({ WRENN_HOST_PROXY_PORT: "off" }, []).proxyPort, undefined);
    assert.equal(run({ WRENN_HOST_PROXY_PORT: "off" }, ["--proxy-port", "50052"]).proxyPort, 50052);
    assert.equal(c.runtime, "namespace");
    assert.equal(c.controlPlaneUrl, "https://cp.example.test");
    assert.equal(c.registerToken, "abcdef0123456789");
    assert.equal(c.advertiseAddress, "10.0.0.5:7001");
    assert.deepEqual(c.tls, { certFile: "/etc/w/cert.pem", keyFile: "/etc/w/key.pem", caFile: "/etc/w/ca.pem" });
    assert.deepEqual([c.net.prefix, c.net.poolSize, c.net.uplinkInterfaces], ["tabc", 0, ["eth0", "eth1"]]);
    assert.equal(c.warmPool, 2, "two warm capsules by default");
    assert.equal(run({ WRENN_WARM_POOL: "0" }, []).warmPool, 0);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.listen) && Object.isFrozen(c.net));
    assert.throws(() => {
      (c.listen as { port: number }).port = 1;
    }, TypeError);
  });

  it("answers --help with the usage text", () => {
    const r = loadConfig({ WRENN_RUNTIME: "bogus" }, ["--help"]);
    assert.equal(r.kind, "help");
    if (r.kind === "help") {
      for (const s of ["--listen", "--runtime", "--register", "--address", "--tls-cert", "WRENN_DIR", "WRENN_CP_URL"])
        assert.ok(r.text.includes(s), s);
    }
  });

  it("rejects bad settings with a clear message that never echoes a token", () => {
    const bad: [Record<string, string>, string[], RegExp][] = [
      [{ WRENN_RUNTIME: "docker" }, [], /runtime must be one of auto, namespace, qemu, firecracker/],
      [{ WRENN_HOST_LISTEN_ADDR: "50051" }, [], /listen address must be host:port/],
      [{ WRENN_HOST_LISTEN_ADDR: "1.2.3.4:99999" }, [], /host:port/],
      [{ WRENN_HOST_PROXY_PORT: "65536" }, [], /proxy port must be 0-65535 or off/],
      [{}, ["--proxy-port", "-1"], /proxy port must be 0-65535 or off/],
      [{}, ["--proxy-port", "50051"], /must differ from the listen port/],
      [{ LOG_LEVEL: "loud" }, [], /log level/],
      [{ WRENN_DIR: "relative/dir" }, [], /WRENN_DIR must be an absolute path/],
      [{ WRENN_CP_URL: "ftp://x" }, [], /must be http/],
      [{ WRENN_CP_URL: "https://user:pw@cp" }, [], /must not carry credentials/],
      [{ WRENN_TLS_CERT: "/a" }, [], /all three/],
      [{ WRENN_NET_PREFIX: "Bad-Prefix" }, [], /prefix/],
      [{ WRENN_NET_POOL: "-1" }, [], /WRENN_NET_POOL/],
      [{ WRENN_WARM_POOL: "two" }, [], /WRENN_WARM_POOL must be an integer/],
      [{ WRENN_WARM_POOL: "65" }, [], /WRENN_WARM_POOL must be at most 64/],
      [{}, ["--bogus"], /unknown option "--bogus"/],
      [{}, ["--listen"], /--listen needs a value/],
      [{}, ["--register", "tok3n-s3cret-value"], /needs the control plane URL/],
      [{ WRENN_CP_URL: "http://cp" }, ["--register", "tok3n-s3cret-value"], /needs --address/],
      [{ WRENN_CP_URL: "http://cp" }, ["--register", "bad token!"], /registration token/],
    ];
    for (const [env, argv, re] of bad) {
      assert.throws(
        () => loadConfig(env, argv),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.match(e.message, re);
          assert.doesNotMatch(e.message, /s3cret|bad token/);
          return true;
        },
        JSON.stringify([env, argv]),
      );
    }
  });
});
