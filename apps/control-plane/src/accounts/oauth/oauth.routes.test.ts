import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { uniqueEmail, uniqueTag } from "../../testing/repo-fixtures.js";
import { type AccountsApp, startAccountsApp, TEST_DASHBOARD_URL, TEST_PUBLIC_URL } from "../testing/accounts-app.js";
import { call, expectError, expectOk } from "../testing/api-client.js";
import { type FakeGitHub, type FakeGitHubAccount, startFakeGitHub } from "./testing/fake-github.js";
import { OAuthBrowser } from "./testing/oauth-browser.js";

const LANDING = `${TEST_DASHBOARD_URL}/auth/github/callback`;
const SETTINGS = `${TEST_DASHBOARD_URL}/dashboard/settings`;
let nextId = 1000;

function account(fields: Partial<FakeGitHubAccount> = {}): FakeGitHubAccount {
  const login = `octo-${uniqueTag()}`;
  const email = `${login}@users.example.com`;
  return {
    id: nextId++,
    login,
    name: "Octo Cat",
    email: null,
    emails: [
      { email: `old-${email}`, primary: false, verified: true },
      { email, primary: true, verified: true },
    ],
    ...fields,
  };
}

const primaryEmail = (a: FakeGitHubAccount) => a.emails.find((e) => e.primary)?.email ?? "";

describe("GitHub OAuth routes", { timeout: 60_000 }, () => {
  let gh: FakeGitHub;
  let app: AccountsApp;
  before(async () => {
    gh = await startFakeGitHub();
    app = await startAccountsApp({
      github: { clientId: gh.clientId, clientSecret: gh.clientSecret, webUrl: gh.url, apiUrl: gh.url },
    });
  });
  after(async () => {
    await app[Symbol.asyncDispose]();
    await gh[Symbol.asyncDispose]();
  });

  test("the redirect carries the app, the callback URL, the scope and a state bound to an HttpOnly cookie", async () => {
    const browser = new OAuthBrowser(app.base);
    const location = new URL(await browser.start("signup"));
    assert.equal(`${location.origin}${location.pathname}`, `${gh.url}/login/oauth/authorize`);
    assert.equal(location.searchParams.get("client_id"), gh.clientId);
    assert.equal(location.searchParams.get("redirect_uri"), `${TEST_PUBLIC_URL}/auth/oauth/github/callback`);
    assert.equal(location.searchParams.get("scope"), "user:email");
    const state = browser.lastSet.get("oauth_state");
    assert.ok(state);
    assert.match(state.value, /^[0-9a-f]{32}:[0-9a-f]{64}:signup$/);
    assert.equal(state.value.split(":")[0], location.searchParams.get("state"));
    assert.deepEqual([...state.attributes].sort(), [
      ["httponly", ""],
      ["max-age", "600"],
      ["path", "/"],
      ["samesite", "Lax"],
    ]);
    assert.equal(browser.lastSet.get("oauth_link_user_id")?.attributes.get("max-age"), "0", "stale link flow cleared");
    const plain = new OAuthBrowser(app.base);
    await plain.start(undefined);
    assert.match(plain.lastSet.get("oauth_state")?.value ?? "", /:login$/, "intent defaults to login");
  });

  test("cookies are Secure behind HTTPS", async () => {
    const browser = new OAuthBrowser(app.base);
    await browser.start("login", { "x-forwarded-proto": "https" });
    assert.equal(browser.lastSet.get("oauth_state")?.attributes.has("secure"), true);
    await browser.start("login");
    assert.equal(browser.lastSet.get("oauth_state")?.attributes.has("secure"), false);
  });

  test("unknown providers are 404 provider_not_found; a bad intent is 400", async () => {
    expectError(await call(app.base, "GET", "/auth/oauth/gitlab"), 404, "provider_not_found");
    expectError(await call(app.base, "GET", "/auth/oauth/gitlab/callback?code=x&state=y"), 404, "provider_not_found");
    expectError(await call(app.base, "GET", "/auth/oauth/github?intent=admin"), 400, "invalid_request");
  });

  test("signup with GitHub creates an active account, its team and the link, and signs in", async () => {
    const who = account({ name: "Mona Lisa" });
    gh.signInAs(who);
    const browser = new OAuthBrowser(app.base);
    const landed = await browser.authorizeAndReturn(await browser.start("signup"));
    assert.equal(landed.toString(), LANDING);
    const set = browser.lastSet;
    for (const name of ["wrenn_oauth_token", "wrenn_oauth_user_id", "wrenn_oauth_team_id", "wrenn_oauth_email"]) {
      const c = set.get(name);
      assert.ok(c, name);
      assert.equal(c.attributes.get("path"), "/auth/");
      assert.equal(c.attributes.get("max-age"), "60");
      assert.equal(c.attributes.has("httponly"), false, "the dashboard reads it");
    }
    assert.equal(set.get("wrenn_oauth_name")?.value, "Mona Lisa");
    assert.equal(set.get("wrenn_oauth_new_signup")?.value, "1");
    assert.equal(set.get("oauth_state")?.attributes.get("max-age"), "0", "state cookie spent");
    assert.equal(set.get("wrenn_oauth_email")?.value, primaryEmail(who), "the primary verified address");

    const token = set.get("wrenn_oauth_token")?.value ?? "";
    const me = expectOk<{ has_password: boolean; providers: string[]; name: string }>(
      await call(app.base, "GET", "/v1/me", { token }),
      "getMe",
      200,
    );
    assert.deepEqual(me, { name: "Mona Lisa", email: primaryEmail(who), has_password: false, providers: ["github"] });
    const teams = expectOk<{ name: string; role: string; id: string }[]>(
      await call(app.base, "GET", "/v1/teams", { token }),
      "listTeams",
      200,
    );
    assert.deepEqual(
      teams.map((t) => [t.name, t.role, t.id]),
      [["Mona Lisa's Team", "owner", set.get("wrenn_oauth_team_id")?.value]],
    );
  });

  test("an existing identity signs in whatever the intent; no new-signup cookie", async () => {
    const who = account();
    gh.signInAs(who);
    const first = new OAuthBrowser(app.base);
    await first.authorizeAndReturn(await first.start("signup"));
    const userId = first.lastSet.get("wrenn_oauth_user_id")?.value;
    for (const intent of ["login", "signup"] as const) {
      const browser = new OAuthBrowser(app.base);
      assert.equal((await browser.authorizeAndReturn(await browser.start(intent))).toString(), LANDING);
      assert.equal(browser.lastSet.get("wrenn_oauth_user_id")?.value, userId);
      assert.equal(browser.lastSet.has("wrenn_oauth_new_signup"), false);
    }
  });

  test("an unknown identity signing in gets no_account and nothing is created", async () => {
    const who = account();
    gh.signInAs(who);
    const browser = new OAuthBrowser(app.base);
    const landed = await browser.authorizeAndReturn(await browser.start("login"));
    assert.equal(landed.toString(), `${LANDING}?error=no_account`);
    assert.equal(await app.store.users.getByEmail(primaryEmail(who)), undefined);
    assert.equal(browser.lastSet.has("wrenn_oauth_token"), false);
  });

  test("signup with an address of an existing account is email_taken; a pending email signup is taken over", async () => {
    const existing = await app.createUser();
    const who = account({ emails: [{ email: existing.user.email, primary: true, verified: true }] });
    gh.signInAs(who);
    const browser = new OAuthBrowser(app.base);
    assert.equal(
      (await browser.authorizeAndReturn(await browser.start("signup"))).searchParams.get("error"),
      "email_taken",
    );
    assert.equal((await app.store.oauth.listForUser(existing.user.id)).length, 0, "never merged by address");

    const pendingEmail = uniqueEmail("pending");
    const pending = await app.store.users.insert({ email: pendingEmail, status: "inactive", name: "P" });
    gh.signInAs(account({ emails: [{ email: pendingEmail, primary: true, verified: true }] }));
    const b2 = new OAuthBrowser(app.base);
    assert.equal((await b2.authorizeAndReturn(await b2.start("signup"))).toString(), LANDING);
    const now = await app.store.users.getByEmail(pendingEmail);
    assert.ok(now && now.id !== pending.id && now.status === "active");
  });

  test("without a verified address the profile's public one is used; with neither the exchange fails", async () => {
    const publicOnly = account({ email: `public-${uniqueTag()}@example.com`, emails: [] });
    gh.signInAs(publicOnly);
    const b1 = new OAuthBrowser(app.base);
    await b1.authorizeAndReturn(await b1.start("signup"));
    assert.equal(b1.lastSet.get("wrenn_oauth_email")?.value, publicOnly.email);

    gh.signInAs(account({ email: null, emails: [{ email: "x@unverified.io", primary: true, verified: false }] }));
    const b2 = new OAuthBrowser(app.base);
    assert.equal((await b2.authorizeAndReturn(await b2.start("signup"))).searchParams.get("error"), "exchange_failed");
  });

  test("the callback refuses a missing, foreign or tampered state, a denial, a missing code and a failed exchange", async () => {
    gh.signInAs(account());
    const noCookie = new OAuthBrowser(app.base);
    const url = await new OAuthBrowser(app.base).start("signup");
    assert.equal((await noCookie.authorizeAndReturn(url)).searchParams.get("error"), "invalid_state");

    const mine = new OAuthBrowser(app.base);
    await mine.start("signup");
    const theirs = await new OAuthBrowser(app.base).start("signup");
    assert.equal((await mine.authorizeAndReturn(theirs)).searchParams.get("error"), "invalid_state", "state mismatch");

    const tampered = new OAuthBrowser(app.base);
    const tamperedUrl = await tampered.start("login");
    tampered.jar.set("oauth_state", (tampered.jar.get("oauth_state") ?? "").replace(/:login$/, ":signup"));
    assert.equal((await tampered.authorizeAndReturn(tamperedUrl)).searchParams.get("error"), "invalid_state");

    gh.denyNext();
    const denied = new OAuthBrowser(app.base);
    assert.equal(
      (await denied.authorizeAndReturn(await denied.start("signup"))).searchParams.get("error"),
      "access_denied",
    );

    const noCode = new OAuthBrowser(app.base);
    const state = new URL(await noCode.start("signup")).searchParams.get("state") ?? "";
    const res = await noCode.visit(`/auth/oauth/github/callback?state=${state}`);
    assert.equal(new URL(res.headers.get("location") ?? "").searchParams.get("error"), "missing_code");

    const badCode = new OAuthBrowser(app.base);
    const s2 = new URL(await badCode.start("signup")).searchParams.get("state") ?? "";
    const res2 = await badCode.visit(`/auth/oauth/github/callback?state=${s2}&code=not-issued`);
    assert.equal(new URL(res2.headers.get("location") ?? "").searchParams.get("error"), "exchange_failed");

    gh.failProfile = true;
    try {
      const down = new OAuthBrowser(app.base);
      assert.equal(
        (await down.authorizeAndReturn(await down.start("signup"))).searchParams.get("error"),
        "exchange_failed",
      );
    } finally {
      gh.failProfile = false;
    }
  });

  test("a disabled account with a linked identity gets account_deactivated", async () => {
    const who = account();
    gh.signInAs(who);
    const b = new OAuthBrowser(app.base);
    await b.authorizeAndReturn(await b.start("signup"));
    const user = await app.store.users.getByEmail(primaryEmail(who));
    await app.store.users.setStatus(user?.id ?? "", "disabled");
    const again = new OAuthBrowser(app.base);
    assert.equal(
      (await again.authorizeAndReturn(await again.start("login"))).searchParams.get("error"),
      "account_deactivated",
    );
  });

  test("linking from settings: connected, then already_linked for another user, provider_already_connected", async () => {
    const alice = await app.createUser();
    const bob = await app.createUser();
    const who = account();
    gh.signInAs(who);
    const connect = async (token: string, browser: OAuthBrowser) => {
      const res = await browser.visit("/v1/me/providers/github/connect", { authorization: `Bearer ${token}` });
      const body = expectOk<{ auth_url: string }>(
        { status: res.status, headers: res.headers, body: await res.json() },
        "connectProvider",
        200,
      );
      return body.auth_url;
    };
    const aliceBrowser = new OAuthBrowser(app.base);
    const authUrl = await connect(alice.token, aliceBrowser);
    assert.match(
      aliceBrowser.jar.get("oauth_state") ?? "",
      /:login$/,
      "intent-bound state, intent login (seed fix 14)",
    );
    assert.ok(aliceBrowser.jar.get("oauth_link_user_id")?.startsWith(`${alice.userId}:`));
    assert.equal((await aliceBrowser.authorizeAndReturn(authUrl)).toString(), `${SETTINGS}?connected=github`);
    assert.equal(aliceBrowser.jar.has("oauth_link_user_id"), false, "link cookie spent");
    assert.equal(aliceBrowser.lastSet.has("wrenn_oauth_token"), false, "linking is not a sign-in");
    assert.deepEqual(
      expectOk<{ providers: string[] }>(await call(app.base, "GET", "/v1/me", { token: alice.token }), "getMe", 200)
        .providers,
      ["github"],
    );
    const again = new OAuthBrowser(app.base);
    assert.equal(
      (await again.authorizeAndReturn(await connect(alice.token, again))).toString(),
      `${SETTINGS}?connected=github`,
    );

    const bobBrowser = new OAuthBrowser(app.base);
    assert.equal(
      (await bobBrowser.authorizeAndReturn(await connect(bob.token, bobBrowser))).toString(),
      `${SETTINGS}?connect_error=already_linked`,
    );
    gh.signInAs(account());
    const second = new OAuthBrowser(app.base);
    assert.equal(
      (await second.authorizeAndReturn(await connect(alice.token, second))).toString(),
      `${SETTINGS}?connect_error=provider_already_connected`,
    );
    assert.equal((await app.store.oauth.listForUser(bob.user.id)).length, 0);
  });

  test("a forged link cookie cannot attach an identity to someone else", async () => {
    const victim = await app.createUser();
    const attacker = await app.createUser();
    gh.signInAs(account());
    const browser = new OAuthBrowser(app.base);
    const res = await browser.visit("/v1/me/providers/github/connect", { authorization: `Bearer ${attacker.token}` });
    const { auth_url } = (await res.json()) as { auth_url: string };
    const mac = (browser.jar.get("oauth_link_user_id") ?? "").split(":")[1];
    browser.jar.set("oauth_link_user_id", `${victim.userId}:${mac}`);
    assert.equal((await browser.authorizeAndReturn(auth_url)).toString(), `${SETTINGS}?connect_error=invalid_state`);
    assert.equal((await app.store.oauth.listForUser(victim.user.id)).length, 0);
  });

  test("connect needs a JWT and a known provider", async () => {
    const s = await app.createUser();
    expectError(await call(app.base, "GET", "/v1/me/providers/github/connect"), 401, "unauthorized");
    expectError(
      await call(app.base, "GET", "/v1/me/providers/gitlab/connect", { token: s.token }),
      404,
      "provider_not_found",
    );
  });
});

describe("GitHub OAuth when not configured", { timeout: 60_000 }, () => {
  test("every OAuth route answers 404 provider_not_found", async () => {
    await using app = await startAccountsApp();
    const s = await app.createUser();
    expectError(await call(app.base, "GET", "/auth/oauth/github"), 404, "provider_not_found");
    expectError(await call(app.base, "GET", "/auth/oauth/github/callback?code=a&state=b"), 404, "provider_not_found");
    expectError(
      await call(app.base, "GET", "/v1/me/providers/github/connect", { token: s.token }),
      404,
      "provider_not_found",
    );
  });
});
