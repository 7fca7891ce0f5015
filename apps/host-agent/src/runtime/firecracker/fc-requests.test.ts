import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bootArgs,
  coldBootSequence,
  createSnapshot,
  describeInstance,
  type FcRequest,
  guestMacFor,
  instanceStart,
  loadSnapshot,
  patchVmState,
  putBootSource,
  putDrive,
  putMachineConfig,
  putMmds,
  putMmdsConfig,
  putNetworkInterface,
  TX_BANDWIDTH,
} from "./fc-requests.js";
import { FcSchema } from "./fc-schema.js";

const schema = new FcSchema();
const loose = new FcSchema(undefined, { strict: false });

/** Every request shape the driver can produce (each builder, each variant). */
function everyRequest(): FcRequest[] {
  return [
    describeInstance(),
    ...coldBootSequence({
      kernelPath: "/var/lib/wrenn/kernels/vmlinux",
      rootfsPath: "/var/lib/wrenn/sandboxes/cl-1/rootfs.ext4",
      sandboxId: "cl-1",
      templateId: "tpl-minimal",
      vcpus: 2,
      memoryMb: 512,
    }),
    putBootSource("/k", "console=ttyS0"),
    putDrive("/data.ext4", { driveId: "data", isRoot: false, readOnly: true }),
    putNetworkInterface("02:fc:00:00:00:01", { ifaceId: "eth1", hostDevName: "tap1", tx: { size: 1, refill_time: 1 } }),
    putMachineConfig(1, 128),
    putMmdsConfig(),
    putMmds({ sandboxId: "cl-2", templateId: "tpl-2" }),
    instanceStart(),
    patchVmState("Paused"),
    patchVmState("Resumed"),
    createSnapshot("/s/vmstate", "/s/memfile"),
    loadSnapshot("/s/vmstate", { type: "File", path: "/s/memfile" }, false),
    loadSnapshot("/s/vmstate", { type: "Uffd", path: "/s/uffd.sock" }, true),
  ];
}

/** Checks that every key of `value` is a property of `definition`, recursing through $refs. */
function assertKeysDeclared(value: unknown, definition: string, where: string): void {
  const def = schema.definitions[definition];
  assert.ok(def, `definition ${definition}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  // Free-form objects (MMDS contents): no declared properties to compare against.
  if ((def as { additionalProperties?: unknown }).additionalProperties === true) return;
  const props = def.properties ?? {};
  for (const [k, v] of Object.entries(value)) {
    assert.ok(k in props, `${where}: field "${k}" is not in ${definition} (${Object.keys(props).join(", ")})`);
    const ref = (props[k] as { $ref?: string }).$ref;
    if (ref) assertKeysDeclared(v, ref.replace("fc#/definitions/", ""), `${where}.${k}`);
  }
  for (const r of def.required ?? []) assert.ok(r in value, `${where}: required field "${r}" of ${definition} missing`);
}

describe("fc-requests against firecracker-api.yaml", () => {
  for (const req of everyRequest()) {
    it(`${req.method} ${req.path} ${JSON.stringify(req.body ?? "")} is valid`, () => {
      assert.deepEqual(schema.check(req), []);
      const op = schema.operation(req.method, req.path);
      assert.ok(op, "operation exists");
      if (op.bodyDefinition) assertKeysDeclared(req.body, op.bodyDefinition, `${req.method} ${req.path}`);
    });
  }

  it("rejects a misspelled field anywhere in any body (additionalProperties enforced)", () => {
    let mutations = 0;
    for (const req of everyRequest()) {
      const op = schema.operation(req.method, req.path);
      // MMDS contents are free-form by design (MmdsContentsObject allows any key).
      if (!op?.bodyDefinition || op.bodyDefinition === "MmdsContentsObject") continue;
      for (const path of objectKeyPaths(req.body)) {
        const mutated = renameKey(req.body, path, `${path.at(-1) ?? ""}x`);
        assert.notDeepEqual(
          schema.check({ ...req, body: mutated }),
          [],
          `${req.path}: ${path.join(".")} misspelled passes`,
        );
        mutations++;
      }
    }
    assert.ok(mutations >= 25, `exercised ${mutations} misspellings`);
    // Why strict mode exists: the YAML itself does not close its objects.
    const typo = {
      ...putNetworkInterface("02:fc:00:00:00:01"),
      body: { iface_id: "eth0", host_dev_name: "tap0", tx_ratelimiter: {} },
    };
    assert.deepEqual(loose.check(typo), []);
    assert.notDeepEqual(schema.check(typo), []);
  });

  it("rejects wrong types and enum values", () => {
    assert.notDeepEqual(schema.check({ ...patchVmState("Paused"), body: { state: "Pause" } }), []);
    assert.notDeepEqual(
      schema.check({ ...putMachineConfig(1, 128), body: { vcpu_count: "1", mem_size_mib: 128 } }),
      [],
    );
    assert.notDeepEqual(schema.check({ ...putMachineConfig(1, 128), body: { vcpu_count: 64, mem_size_mib: 128 } }), []);
    assert.notDeepEqual(schema.check({ method: "PUT", path: "/snapshot/load", body: { mem_backend: {} } }), []);
    assert.notDeepEqual(schema.check({ method: "PUT", path: "/no-such-thing", body: {} }), []);
  });

  it("carries the seed's fixes: 200 MB/s egress with 100 MB burst, MMDS v2 with sandbox and template ids", () => {
    const seq = coldBootSequence({
      kernelPath: "/k",
      rootfsPath: "/r",
      sandboxId: "cl-9",
      templateId: "tpl-9",
      vcpus: 1,
      memoryMb: 256,
    });
    const nic = seq.find((r) => r.path === "/network-interfaces/eth0");
    assert.deepEqual(nic?.body, {
      iface_id: "eth0",
      host_dev_name: "tap0",
      guest_mac: guestMacFor("cl-9"),
      tx_rate_limiter: { bandwidth: { size: 209715200, refill_time: 1000, one_time_burst: 104857600 } },
    });
    assert.deepEqual(TX_BANDWIDTH, { size: 209715200, refill_time: 1000, one_time_burst: 104857600 });
    assert.deepEqual(seq.find((r) => r.path === "/mmds/config")?.body, { version: "V2", network_interfaces: ["eth0"] });
    assert.deepEqual(seq.find((r) => r.path === "/mmds")?.body, { instanceID: "cl-9", envID: "tpl-9" });
    assert.deepEqual(
      seq.map((r) => `${r.method} ${r.path}`),
      [
        "PUT /boot-source",
        "PUT /drives/rootfs",
        "PUT /network-interfaces/eth0",
        "PUT /machine-config",
        "PUT /mmds/config",
        "PUT /mmds",
        "PUT /actions",
      ],
    );
    assert.equal(
      bootArgs(),
      "console=ttyS0 reboot=k panic=1 pci=off quiet loglevel=1 clocksource=kvm-clock init=/usr/local/bin/wrenn-init " +
        "ip=169.254.0.21::169.254.0.22:255.255.255.252:capsule:eth0:off",
    );
  });

  it("refuses inputs Firecracker would refuse, before sending them", () => {
    assert.throws(() => putMmds({ sandboxId: "cl-1", templateId: "" }), /templateId/);
    assert.throws(() => putMachineConfig(3, 128), /1 or even/);
    assert.throws(() => putMachineConfig(0, 128), /1\.\.32/);
    assert.throws(() => putMachineConfig(2, 0), /mem_size_mib/);
  });

  it("derives a stable, locally administered unicast MAC from the sandbox id", () => {
    const mac = guestMacFor("cl-abc");
    assert.equal(mac, guestMacFor("cl-abc"));
    assert.notEqual(mac, guestMacFor("cl-abd"));
    assert.match(mac, /^02:fc(:[0-9a-f]{2}){4}$/);
  });
});

/** Paths (as key lists) to every key of every object inside `v`. */
function objectKeyPaths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [];
  return Object.entries(v).flatMap(([k, child]) => [[...prefix, k], ...objectKeyPaths(child, [...prefix, k])]);
}

/** A deep copy of `v` with the key at `path` renamed to `to`. */
function renameKey(v: unknown, path: string[], to: string): unknown {
  const copy = structuredClone(v) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = path.at(-1) ?? "";
  node[to] = node[last];
  delete node[last];
  return copy;
}
