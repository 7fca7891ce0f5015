import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_NET_CONFIG, type NetConfig } from "./net-config.js";
import { renderEgressChange, renderRuleset, renderTableRemoval } from "./nft-ruleset.js";

const config: NetConfig = {
  ...DEFAULT_NET_CONFIG,
  prefix: "wrn",
  blockedDestinations: ["10.0.0.0/8", "169.254.0.0/16"],
};

test("renderRuleset: atomic replace of one table, isolation before egress, masquerade", () => {
  assert.equal(
    renderRuleset({ ...config, egressAllowList: ["198.51.100.0/24"] }, ["wrnh1", "wrnh9"]),
    `table inet wrn
delete table inet wrn
table inet wrn {
  set egress {
    type ifname
    elements = { "wrnh1", "wrnh9" }
  }
  set blocked {
    type ipv4_addr
    flags interval
    elements = { 10.0.0.0/8, 169.254.0.0/16 }
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wrnh*" ct state established,related accept
    iifname "wrnh*" drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "wrnh*" oifname "wrnh*" drop
    oifname "wrnh*" ct state established,related accept
    oifname "wrnh*" drop
    iifname "wrnh*" meta nfproto ipv6 drop
    iifname "wrnh*" iifname != @egress drop
    iifname "wrnh*" ip daddr @blocked drop
    iifname "wrnh*" ip daddr != { 198.51.100.0/24 } drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.211.0.0/16 oifname != "wrnh*" masquerade
  }
}
`,
  );
});

test("renderRuleset: empty sets and no allow-list in production", () => {
  const text = renderRuleset({ ...config, blockedDestinations: [] });
  assert.match(text, /set egress {\n {4}type ifname\n {2}}/);
  assert.match(text, /set blocked {\n {4}type ipv4_addr\n {4}flags interval\n {2}}/);
  assert.doesNotMatch(text, /daddr != /);
});

test("egress changes and table removal", () => {
  assert.equal(renderEgressChange(config, "wrnh3", true), 'add element inet wrn egress { "wrnh3" }\n');
  assert.equal(renderEgressChange(config, "wrnh3", false), 'delete element inet wrn egress { "wrnh3" }\n');
  assert.equal(renderTableRemoval(config), "table inet wrn\ndelete table inet wrn\n");
});
