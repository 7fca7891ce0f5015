import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { GitHubOAuthClient } from "./github-client.js";
import { startFakeGitHub } from "./testing/fake-github.js";

/** A loopback server answering every request with `handler`. */
async function serve(handler: RequestListener) {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function exchangeFails(client: GitHubOAuthClient, message: RegExp): Promise<void> {
  await assert.rejects(client.exchange("code", "https://cp.test/cb"), (err: unknown) => {
    assert.ok(err instanceof PlatformError);
    assert.equal(err.reason, "OAUTH_EXCHANGE_FAILED");
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /secret|code=/);
    return true;
  });
}

describe("GitHub OAuth client", () => {
  test("the authorize URL names the app, the callback, the scope and the state", () => {
    const client = new GitHubOAuthClient({ clientId: "id1", clientSecret: "s", webUrl: "https://gh.test/" });
    const url = new URL(client.authorizeUrl("abc", "https://cp.test/auth/oauth/github/callback"));
    assert.equal(`${url.origin}${url.pathname}`, "https://gh.test/login/oauth/authorize");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      client_id: "id1",
      redirect_uri: "https://cp.test/auth/oauth/github/callback",
      scope: "user:email",
      state: "abc",
    });
    assert.equal(
      new URL(new GitHubOAuthClient({ clientId: "x", clientSecret: "y" }).authorizeUrl("s", "https://a.test")).origin,
      "https://github.com",
    );
  });

  test("exchange against the fake: profile id, login, primary verified email, name falling back to the login", async () => {
    await using gh = await startFakeGitHub();
    const client = new GitHubOAuthClient({
      clientId: gh.clientId,
      clientSecret: gh.clientSecret,
      webUrl: gh.url,
      apiUrl: gh.url,
    });
    gh.signInAs({
      id: 42,
      login: "octo",
      name: null,
      email: "pub@x.io",
      emails: [{ email: "p@x.io", primary: true, verified: true }],
    });
    const back = await fetch(client.authorizeUrl("st", "https://cp.test/cb"), { redirect: "manual" });
    const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
    assert.deepEqual(await client.exchange(code, "https://cp.test/cb"), {
      id: "42",
      login: "octo",
      email: "p@x.io",
      name: "octo",
    });
    await exchangeFails(client, /refused the authorization code/);
    const wrongSecret = new GitHubOAuthClient({
      clientId: gh.clientId,
      clientSecret: "nope",
      webUrl: gh.url,
      apiUrl: gh.url,
    });
    await exchangeFails(wrongSecret, /refused the authorization code/);
  });

  test("HTTP errors, bad JSON, oversized bodies, redirects and unreachable servers are exchange failures", async () => {
    await using status = await serve((_req, res) => res.writeHead(500).end("{}"));
    await exchangeFails(new GitHubOAuthClient({ clientId: "a", clientSecret: "b", webUrl: status.url }), /HTTP 500/);

    await using garbage = await serve((_req, res) => res.writeHead(200).end("<html>"));
    await exchangeFails(
      new GitHubOAuthClient({ clientId: "a", clientSecret: "b", webUrl: garbage.url }),
      /invalid JSON/,
    );

    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    await using huge = await serve((_req, res) => res.writeHead(200).end(big));
    await exchangeFails(new GitHubOAuthClient({ clientId: "a", clientSecret: "b", webUrl: huge.url }), /more than/);

    await using redirect = await serve((_req, res) => res.writeHead(302, { location: "http://127.0.0.1:9/" }).end());
    await exchangeFails(
      new GitHubOAuthClient({ clientId: "a", clientSecret: "b", webUrl: redirect.url }),
      /could not be reached/,
    );

    await using silent = await serve(() => undefined);
    const slow = new GitHubOAuthClient({ clientId: "a", clientSecret: "b", webUrl: silent.url, timeoutMs: 100 });
    await exchangeFails(slow, /could not be reached/);
  });
});
