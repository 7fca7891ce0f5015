/**
 * Straight access to a capsule's envd for the benchmarks' "envd direct" floors: the same call
 * without the control plane and the agent.
 */
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Process } from "@wrenn/protocol/envd/process";
import type { Stack } from "../../e2e/stack.js";

/** What {@link envdDirect} gives: envd's base URL, its auth header and a process client. */
export interface EnvdDirect {
  /** envd's base URL as the agent records it (e.g. for `/files`). */
  readonly url: string;
  /** envd refuses requests without the capsule's access token, which the control plane derives. */
  readonly auth: Readonly<Record<string, string>>;
  /** envd's process service, binary Connect over HTTP/1.1, every call carrying {@link auth}. */
  readonly process: Client<typeof Process>;
}

/**
 * envd of capsule `id`.
 * @throws when the agent has no envd address for the capsule (not running here)
 */
export function envdDirect(s: Stack, id: string): EnvdDirect {
  const record = s.agent.agent.manager.list().find((c) => c.id === id);
  if (record?.envdUrl === undefined) throw new Error("no envd address for the capsule");
  const auth = { "x-access-token": s.cp.envdTokens.forCapsule(id) };
  const process = createClient(
    Process,
    createConnectTransport({
      baseUrl: record.envdUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
      interceptors: [
        (next) => (req) => {
          req.header.set("x-access-token", auth["x-access-token"]);
          return next(req);
        },
      ],
    }),
  );
  return { url: record.envdUrl, auth, process };
}

/** Runs `/bin/true` through envd and waits for its end event. */
export async function envdRunTrue(process: Client<typeof Process>): Promise<void> {
  for await (const _ of process.start({ process: { cmd: "/bin/true", args: [] }, stdin: false })) {
    // drain to the end event
  }
}
