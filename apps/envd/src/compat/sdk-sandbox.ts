import { Sandbox } from "e2b";

/** What the e2b SDK's (protected) Sandbox constructor takes; used by E2B's own connect path. */
interface SandboxInit {
  sandboxId: string;
  envdVersion: string;
  envdAccessToken?: string;
  sandboxUrl: string;
  debug: boolean;
  requestTimeoutMs?: number;
}

/**
 * An unchanged e2b SDK Sandbox talking to the test envd. It is built the way
 * `Sandbox.connect` builds one after the API answered, with the envd version
 * and access token a real control plane would return, so the SDK's version
 * gates and signing behave as in production. `sandboxUrl` is the SDK's own
 * option for "one URL for every sandbox" (E2B_SANDBOX_URL).
 * @internal
 */
export async function sdkSandbox(t: { url: string }, opts: { accessToken?: string } = {}): Promise<Sandbox> {
  const health = (await (await fetch(`${t.url}/health`)).json()) as { version: string };
  const init: SandboxInit = {
    sandboxId: "sbx_test",
    envdVersion: health.version,
    sandboxUrl: t.url,
    debug: true,
    requestTimeoutMs: 30_000,
    ...(opts.accessToken ? { envdAccessToken: opts.accessToken } : {}),
  };
  const SandboxCtor = Sandbox as unknown as new (init: SandboxInit) => Sandbox;
  return new SandboxCtor(init);
}

/** Sets envd's access token the way the host agent does (POST /init). */
export async function setAccessToken(t: { url: string }, token: string): Promise<void> {
  const res = await fetch(`${t.url}/init`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ accessToken: token }),
  });
  if (res.status !== 204) throw new Error(`/init answered ${res.status}`);
}
