import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { subjectAltNameForAddress } from "./host-address.js";

describe("subjectAltNameForAddress", () => {
  it("maps IP addresses to IP SANs and names to DNS SANs, with or without a port", () => {
    const cases: Array<[string, { type: "ip" | "dns"; value: string }]> = [
      ["10.0.0.5:50051", { type: "ip", value: "10.0.0.5" }],
      ["10.0.0.5", { type: "ip", value: "10.0.0.5" }],
      ["[fd00::5]:50051", { type: "ip", value: "fd00::5" }],
      ["[::1]", { type: "ip", value: "::1" }],
      ["fd00::5", { type: "ip", value: "fd00::5" }],
      ["agent-1.internal:50051", { type: "dns", value: "agent-1.internal" }],
      ["Agent-1.Internal.", { type: "dns", value: "agent-1.internal" }],
      ["localhost", { type: "dns", value: "localhost" }],
    ];
    for (const [address, san] of cases) assert.deepEqual(subjectAltNameForAddress(address), san, address);
  });

  it("refuses anything else with a clear error", () => {
    const bad = [
      "",
      ":50051",
      "10.0.0.5:0",
      "10.0.0.5:70000",
      "10.0.0.5:port",
      "[10.0.0.5]:50051",
      "[fd00::5",
      "fd00::5:50051:1",
      "-agent.internal",
      "agent_1.internal",
      "agent..internal",
      "a b",
      "x".repeat(64),
      "https://agent:1",
    ];
    for (const address of bad) {
      assert.throws(
        () => subjectAltNameForAddress(address),
        (e) =>
          e instanceof PlatformError && e.reason === "HOST_ADDRESS_INVALID" && !e.message.includes(address || "\u0000"),
        address,
      );
    }
  });
});
