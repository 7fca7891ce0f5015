import { spawn } from "node:child_process";
import { readdir, rmdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { processAlive, sleep } from "@wrenn/kit";
import { type CommandRunner, ExecFileRunner, runChecked } from "../exec/command-runner.js";
import { DEFAULT_NET_CONFIG, type NetConfig } from "./net-config.js";
import { listOwnedNames } from "./netns-network.js";

/** Why privileged network tests cannot run here, or undefined when they can. @internal */
export async function netnsSkipReason(runner: CommandRunner): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "needs root (CAP_NET_ADMIN) to create network namespaces";
  for (const argv of [
    ["ip", "-V"],
    ["nft", "--version"],
  ] as const) {
    const ok = await runner.run(argv).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    if (!ok) return `needs \`${argv[0]}\` (apt-get install iproute2 nftables)`;
  }
  await removeDeadTestNetworks(runner);
  return undefined;
}

/**
 * Removes the namespaces (slots and the simulated internet), host links, nft tables and cgroup
 * parents of test runs whose process is gone (a test run killed before its cleanup). Names of live runs and
 * non-test names are left alone; failures are skipped (another run may be sweeping the same
 * names). Returns the prefixes swept.
 * @internal
 */
export async function removeDeadTestNetworks(runner: CommandRunner): Promise<string[]> {
  const tables = (await runner.run(["nft", "list", "tables"])).stdout;
  const netns = (await runner.run(["ip", "netns", "list"])).stdout;
  const links = (await runner.run(["ip", "-o", "link", "show"])).stdout;
  const found = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1] ?? "");
  const nsNames = found(netns, /^(\S+)/gm);
  const linkNames = found(links, /^\d+: ([^:@\s]+)/gm);
  const prefixes = new Set([
    ...found(tables, /^table inet (t[0-9a-z]{1,5}x[0-9a-z])$/gm),
    ...nsNames.flatMap((n) => /^(t[0-9a-z]{1,5}x[0-9a-z])-/.exec(n)?.[1] ?? []),
  ]);
  const swept: string[] = [];
  for (const prefix of prefixes) {
    const owner = TEST_PREFIX_RE.exec(prefix)?.[1];
    if (owner === undefined || processAlive(Number.parseInt(owner, 36))) continue;
    for (const n of nsNames.filter((n) => n.startsWith(`${prefix}-`))) {
      await runner.run(["ip", "netns", "delete", n]).catch(() => undefined);
    }
    const ownLink = new RegExp(`^${prefix}[hw]\\d+$`);
    for (const l of linkNames.filter((l) => ownLink.test(l))) {
      await runner.run(["ip", "link", "delete", l]).catch(() => undefined);
    }
    if (tables.includes(`table inet ${prefix}\n`) || tables.endsWith(`table inet ${prefix}`)) {
      await runner.run(["nft", "delete", "table", "inet", prefix]).catch(() => undefined);
    }
    swept.push(prefix);
  }
  for (const prefix of await deadTestCgroupParents()) {
    for (const dir of prefix.dirs) await removeCgroupTree(dir);
    if (!swept.includes(prefix.name)) swept.push(prefix.name);
  }
  return swept;
}

const CGROUP_ROOT = "/sys/fs/cgroup";

/** Cgroup parents named by a dead test run's prefix (tests use it as the capsules' cgroup parent), per hierarchy. */
async function deadTestCgroupParents(): Promise<{ name: string; dirs: string[] }[]> {
  // cgroup v2: one hierarchy at the root; v1: one per controller directory below it.
  const hierarchies = [CGROUP_ROOT, ...(await readdir(CGROUP_ROOT).catch(() => [])).map((c) => join(CGROUP_ROOT, c))];
  const byName = new Map<string, string[]>();
  for (const h of hierarchies) {
    for (const name of await readdir(h).catch(() => [])) {
      const owner = TEST_PREFIX_RE.exec(name)?.[1];
      if (owner === undefined || processAlive(Number.parseInt(owner, 36))) continue;
      byName.set(name, [...(byName.get(name) ?? []), join(h, name)]);
    }
  }
  return [...byName].map(([name, dirs]) => ({ name, dirs }));
}

/** Removes a cgroup and its children, deepest first (rmdir refuses any that still holds a process). */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}

let configsMade = 0;

/** Test prefixes: `t<pid in base 36>x<counter>`, so a later run can tell whose names they are. */
const TEST_PREFIX_RE = /^t([0-9a-z]{1,5})x[0-9a-z]$/;

/**
 * A config for one test network: a prefix of its own, naming the test process (so cleanup and
 * checks only see its names, and a killed run's names can be recognised and removed by the
 * next run: {@link removeDeadTestNetworks}), and a random slot range in 10.213.0.0/16, away
 * from the agent's 10.211.0.0/16.
 * @internal
 */
export function testNetConfig(): NetConfig {
  const prefix = `t${process.pid.toString(36)}x${(configsMade++ % 36).toString(36)}`;
  const firstSlot = 1000 + Math.floor(Math.random() * 14000);
  return { ...DEFAULT_NET_CONFIG, prefix, subnet: "10.213.0.0/16", firstSlot, slotCount: 32, poolSize: 2 };
}

/** Every name of `prefix` left on the host, as one flat list (empty means clean). @internal */
export async function ownedLeftovers(runner: CommandRunner, prefix: string): Promise<string[]> {
  const o = await listOwnedNames(runner, prefix);
  return [...o.netns, ...o.links, ...o.tables];
}

/** Interface names in the prefix table's egress set (empty when the table is gone). @internal */
export async function egressElements(runner: CommandRunner, prefix: string): Promise<string[]> {
  const r = await runner.run(["nft", "list", "set", "inet", prefix, "egress"]);
  if (r.exitCode !== 0) return [];
  const m = /elements = \{([^}]*)\}/.exec(r.stdout);
  return (m?.[1] ?? "")
    .split(",")
    .map((s) => s.trim().replaceAll('"', ""))
    .filter((s) => s !== "");
}

// Tiny programs run with `node -e` inside namespaces (they are argv, not shell text).
/** Answers every request with the peer address it saw. */
const SERVER = `const [h,p]=process.argv.slice(1);require("http").createServer((q,s)=>s.end(q.socket.remoteAddress)).listen(+p,h,()=>console.log("listening"))`;
/** GETs a URL with a 500 ms timeout; prints the body, exit 1 on any failure. */
const CLIENT = `const [u]=process.argv.slice(1);const q=require("http").get(u,{timeout:500},r=>{let b="";r.on("data",d=>b+=d);r.on("end",()=>{process.stdout.write(b);process.exit(0)})});q.on("timeout",()=>q.destroy(new Error("timeout")));q.on("error",e=>{process.stderr.write(e.message);process.exit(1)})`;

/** A server started by {@link startServerIn}. @internal */
export interface NetnsServer extends AsyncDisposable {
  /** Resolves once the server listens (it says so on stdout); rejects if it exits first. */
  readonly ready: Promise<void>;
}

/**
 * Starts the tiny echo-the-peer HTTP server inside `netns` on host:port. Await
 * `ready` before probing it: starting Node takes seconds on a loaded host, so a
 * probe with a deadline would measure the machine's load, not the network.
 * @internal
 */
export function startServerIn(netns: string, host: string, port: number): NetnsServer {
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", SERVER, host, String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-500);
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("listening")) resolve();
    });
    void exited.then(() => reject(new Error(`server in ${netns} exited before listening: ${stderr}`)));
  });
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection here
  return {
    ready,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** GET from inside `netns`; resolves with the body, or undefined if it could not connect. @internal */
export async function fetchFrom(netns: string, url: string): Promise<string | undefined> {
  const r = await new ExecFileRunner().run(["ip", "netns", "exec", netns, process.execPath, "-e", CLIENT, url], {
    timeoutMs: 10_000,
  });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** GET from the host itself with a 500 ms timeout; undefined on failure. @internal */
export function fetchFromHost(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 500 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve(body));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** Polls `url` from the host until it answers (servers just started). @internal */
export async function waitReachable(url: string, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const body = await fetchFromHost(url);
    if (body !== undefined) return body;
    if (Date.now() > deadline) throw new Error(`${url} never answered`);
    await sleep(25);
  }
}

/**
 * A simulated internet: netns `<prefix>-wan` holding 198.51.100.10/24 behind a veth whose
 * host end `<prefix>w0` is 198.51.100.1 — the provider's uplink. Nothing in it sends until a
 * test starts a server there, after the provider's guard rules are installed. @internal
 */
export async function createWan(
  runner: CommandRunner,
  prefix: string,
): Promise<AsyncDisposable & { ns: string; link: string }> {
  const ns = `${prefix}-wan`;
  const link = `${prefix}w0`;
  const dispose = async () => {
    await runner.run(["ip", "-force", "-batch", "-"], { stdin: `link del ${link}\nnetns del ${ns}\n` });
  };
  try {
    await runChecked(runner, ["ip", "-batch", "-"], {
      stdin: `netns add ${ns}\nlink add ${link} type veth peer name eth0 netns ${ns}\naddr add 198.51.100.1/24 dev ${link}\nlink set ${link} up\n`,
    });
    await runChecked(runner, ["ip", "-n", ns, "-batch", "-"], {
      stdin: "link set lo up\naddr add 198.51.100.10/24 dev eth0\nlink set eth0 up\n",
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { ns, link, [Symbol.asyncDispose]: dispose };
}
