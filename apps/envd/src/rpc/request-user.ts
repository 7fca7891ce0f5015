import type { HandlerContext } from "@connectrpc/connect";
import { basicAuthUsername, resolveUser } from "../auth.js";
import type { EnvdEnv } from "../env.js";
import { toConnectError } from "../errors.js";
import type { UserInfo } from "../users.js";

/**
 * The user an RPC runs as: named by `Authorization: Basic base64("user:")`,
 * else envd's default user. Throws ConnectError(Unauthenticated) for an
 * unknown user.
 */
export function requestUser(env: EnvdEnv, ctx: HandlerContext): UserInfo {
  try {
    return resolveUser(env.users, env.state, basicAuthUsername(ctx.requestHeader.get("authorization")));
  } catch (err) {
    throw toConnectError(err);
  }
}
