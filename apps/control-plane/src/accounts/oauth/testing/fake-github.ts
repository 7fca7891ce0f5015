/**
 * A stand-in for GitHub's OAuth web flow and the two REST endpoints sign-in
 * reads, served over real HTTP on 127.0.0.1 for tests:
 *
 * - `GET /login/oauth/authorize` — the consent page: immediately redirects
 *   to `redirect_uri` with `code` and `state` (or `error=access_denied`) for
 *   the account chosen with {@link FakeGitHub.signInAs}.
 * - `POST /login/oauth/access_token` — form or JSON; checks the client id and
 *   secret, that the code is unused and that `redirect_uri` matches; like
 *   GitHub it reports a bad code as `200 {"error": …}`.
 * - `GET /user`, `GET /user/emails` — with `Authorization: Bearer <token>`.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A GitHub account of the fake. */
export interface FakeGitHubAccount {
  readonly id: number;
  readonly login: string;
  readonly name: string | null;
  /** The public profile address (often null on GitHub). */
  readonly email: string | null;
  /** What `/user/emails` lists. */
  readonly emails: readonly { email: string; primary: boolean; verified: boolean }[];
}

/** A running fake; dispose to stop it. */
export interface FakeGitHub extends AsyncDisposable {
  /** Base URL of both the web and the API endpoints. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request as `METHOD /path` (no query strings: they hold codes). */
  readonly requests: readonly string[];
  /** The account the next authorizations sign in as. */
  signInAs(account: FakeGitHubAccount): void;
  /** The next authorization is refused by the user (`error=access_denied`). */
  denyNext(): void;
  /** When true, `/user` answers 502 (GitHub having a bad day). */
  failProfile: boolean;
}

interface Grant {
  readonly account: FakeGitHubAccount;
  readonly redirectUri: string;
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const clientId = `Iv1.${randomBytes(8).toString("hex")}`;
  const clientSecret = randomBytes(20).toString("hex");
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, FakeGitHubAccount>();
  const requests: string[] = [];
  let current: FakeGitHubAccount | undefined;
  let deny = false;
  const state = { failProfile: false };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push(`${req.method} ${url.pathname}`);
    handle(req, res, url).catch(() => send(res, 500, { message: "fake failure" }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /login/oauth/authorize") {
      authorize(res, url.searchParams);
      return;
    }
    if (route === "POST /login/oauth/access_token") {
      accessToken(res, await readForm(req));
      return;
    }
    const account = tokens.get(/^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
    if (route === "GET /user" || route === "GET /user/emails") {
      if (account === undefined) return send(res, 401, { message: "Bad credentials" });
      if (route === "GET /user/emails") return send(res, 200, account.emails);
      if (state.failProfile) return send(res, 502, { message: "Server Error" });
      return send(res, 200, { id: account.id, login: account.login, name: account.name, email: account.email });
    }
    send(res, 404, { message: "Not Found" });
  }

  function authorize(res: ServerResponse, q: URLSearchParams): void {
    const redirectUri = q.get("redirect_uri");
    if (q.get("client_id") !== clientId || redirectUri === null) {
      send(res, 404, { message: "unknown app" });
      return;
    }
    if (!(q.get("scope") ?? "").split(/[ ,]/).includes("user:email")) {
      send(res, 400, { message: "scope" });
      return;
    }
    const back = new URL(redirectUri);
    back.searchParams.set("state", q.get("state") ?? "");
    if (deny || current === undefined) {
      deny = false;
      back.searchParams.set("error", "access_denied");
    } else {
      const code = randomBytes(10).toString("hex");
      codes.set(code, { account: current, redirectUri });
      back.searchParams.set("code", code);
    }
    res.writeHead(302, { location: back.toString() }).end();
  }

  function accessToken(res: ServerResponse, form: URLSearchParams): void {
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      send(res, 200, { error: "incorrect_client_credentials" });
      return;
    }
    const code = form.get("code") ?? "";
    const grant = codes.get(code);
    codes.delete(code);
    if (grant === undefined || grant.redirectUri !== form.get("redirect_uri")) {
      send(res, 200, { error: "bad_verification_code" });
      return;
    }
    const token = `gho_${randomBytes(18).toString("hex")}`;
    tokens.set(token, grant.account);
    send(res, 200, { access_token: token, token_type: "bearer", scope: "user:email" });
  }

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    requests,
    signInAs(account: FakeGitHubAccount) {
      current = account;
    },
    denyNext() {
      deny = true;
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if ((req.headers["content-type"] ?? "").includes("application/json")) {
    return new URLSearchParams(JSON.parse(text) as Record<string, string>);
  }
  return new URLSearchParams(text);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
