import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryHost, MemoryNetwork } from "./memory-network.js";
import { DEFAULT_NET_CONFIG, type NetConfig } from "./net-config.js";
import { networkContract } from "./network-contract.js";

const config: NetConfig = { ...DEFAULT_NET_CONFIG, prefix: "mem", poolSize: 2, slotCount: 64 };

networkContract("MemoryNetwork", () => {
  const host = new MemoryHost();
  return {
    config,
    make: (c) => new MemoryNetwork(c, { host }),
    leftovers: async () => host.owned(config.prefix),
    egressSet: async () => [...host.egress],
  };
});

test("MemoryNetwork: a failed create is rolled back and the acquire rejects", async () => {
  const host = new MemoryHost();
  const p = new MemoryNetwork({ ...config, poolSize: 0, firstSlot: 5 }, { host });
  host.failCreate.add(5);
  await assert.rejects(p.acquire("sb-a", { allowEgress: false }), /injected failure/);
  assert.deepEqual(host.owned("mem"), ["inet mem"]);
  const s = await p.acquire("sb-a", { allowEgress: false });
  assert.equal(s.slot, 6);
  await p[Symbol.asyncDispose]();
  assert.deepEqual(host.owned("mem"), []);
});
