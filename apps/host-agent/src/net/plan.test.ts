import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_NET_CONFIG, type NetConfig, slotLayout } from "./net-config.js";
import { planSlot, planUplinks } from "./plan.js";

const config: NetConfig = { ...DEFAULT_NET_CONFIG, prefix: "wrn", subnet: "10.211.0.0/16" };

test("slot numbers map onto /30s of the /16 and onto short names", () => {
  assert.deepEqual(slotLayout(7, config), {
    slot: 7,
    netns: "wrn-7",
    netnsPath: "/run/netns/wrn-7",
    hostInterface: "wrnh7",
    guestInterface: "eth0",
    hostIp: "10.211.0.29",
    guestIp: "10.211.0.30",
    cidr: "10.211.0.28/30",
  });
  const last = slotLayout(16383, config);
  assert.deepEqual([last.hostIp, last.guestIp, last.cidr], ["10.211.255.253", "10.211.255.254", "10.211.255.252/30"]);
  assert.equal(slotLayout(64, config).hostIp, "10.211.1.1");
  assert.throws(() => slotLayout(16384, config), /outside the \/16/);
  assert.throws(() => slotLayout(1, { ...config, prefix: "Bad-Prefix" }), /prefix/);
  assert.throws(() => slotLayout(1, { ...config, prefix: "waytoolong" }), /prefix/);
  assert.throws(() => slotLayout(1, { ...config, subnet: "10.211.0.0/24" }), /subnet/);
  assert.throws(() => slotLayout(1, { ...config, firstSlot: 16000, slotCount: 1000 }), /firstSlot \+ slotCount/);
});

test("planSlot: exact setup and teardown commands", () => {
  assert.deepEqual(planSlot(7, config), {
    layout: slotLayout(7, config),
    setup: [
      {
        argv: ["ip", "-batch", "-"],
        stdin:
          "netns add wrn-7\n" +
          "link add wrnh7 type veth peer name eth0 netns wrn-7\n" +
          "addr add 10.211.0.29/30 dev wrnh7\n" +
          "link set wrnh7 up\n",
      },
      {
        argv: [
          "sysctl",
          "-q",
          "-w",
          "net.ipv4.conf.wrnh7.forwarding=1",
          "net.ipv4.conf.wrnh7.rp_filter=1",
          "net.ipv6.conf.wrnh7.disable_ipv6=1",
        ],
      },
      {
        argv: ["ip", "-n", "wrn-7", "-batch", "-"],
        stdin:
          "link set lo up\naddr add 10.211.0.30/30 dev eth0\nlink set eth0 up\nroute add default via 10.211.0.29\n",
      },
    ],
    teardown: [{ argv: ["ip", "-force", "-batch", "-"], stdin: "link del wrnh7\nnetns del wrn-7\n" }],
  });
});

test("planSlot with a VM TAP: tap0 with txqueuelen 5000 and a DNAT to the VM inside the namespace", () => {
  const plan = planSlot(2, config, {});
  assert.deepEqual(plan.setup[2], {
    argv: ["ip", "-n", "wrn-2", "-batch", "-"],
    stdin:
      "link set lo up\naddr add 10.211.0.10/30 dev eth0\nlink set eth0 up\nroute add default via 10.211.0.9\n" +
      "tuntap add dev tap0 mode tap\nlink set tap0 txqueuelen 5000\naddr add 169.254.0.22/30 dev tap0\nlink set tap0 up\n",
  });
  assert.deepEqual(plan.setup.slice(3), [
    { argv: ["ip", "netns", "exec", "wrn-2", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"] },
    {
      argv: ["ip", "netns", "exec", "wrn-2", "nft", "-f", "-"],
      stdin:
        "table ip vm {\n" +
        "  chain pre {\n" +
        "    type nat hook prerouting priority dstnat; policy accept;\n" +
        '    iifname "eth0" ip daddr 10.211.0.10 dnat to 169.254.0.21\n' +
        "  }\n" +
        "  chain post {\n" +
        "    type nat hook postrouting priority srcnat; policy accept;\n" +
        '    oifname "eth0" ip saddr 169.254.0.21 masquerade\n' +
        "  }\n" +
        "}\n",
    },
  ]);
  assert.deepEqual(plan.teardown, planSlot(2, config).teardown, "the TAP goes with the namespace");
});

test("planUplinks: forwarding on each uplink, nothing without uplinks", () => {
  assert.deepEqual(planUplinks({ ...config, uplinkInterfaces: ["eth0", "eth1"] }), [
    { argv: ["sysctl", "-q", "-w", "net.ipv4.conf.eth0.forwarding=1", "net.ipv4.conf.eth1.forwarding=1"] },
  ]);
  assert.deepEqual(planUplinks(config), []);
});
