import type { IncomingMessage } from "node:http";
import {
  ACCESS_TOKEN_HEADER,
  basicAuthUsername,
  checkFileSignature,
  resolveUser,
  type SignedOperation,
  safeEqual,
} from "../auth.js";
import type { EnvdEnv } from "../env.js";
import type { UserInfo } from "../users.js";
import { FilesHttpError } from "./files-errors.js";

/** A /files request after authentication: its query and the user it acts as. */
export interface FilesRequest {
  /** The `path` query value as sent ("" when absent). */
  readonly path: string;
  /** Whether a `path` query parameter was sent at all (even empty). */
  readonly hasPath: boolean;
  readonly user: UserInfo;
}

const EXPIRATION = /^\d{1,12}$/;

/**
 * Authenticates a /files request and resolves its user. When /init set an
 * access token, the request needs either the `X-Access-Token` header or a
 * signed URL (`signature`, optional `signature_expiration`) made for this
 * path, operation and `username` query; a header that is present but wrong
 * fails even if a signature is attached, as in E2B envd.
 *
 * The user is the `username` query, else the Basic auth user, else the
 * default user. A signed URL ignores Basic auth: the signature covers only
 * the `username` query, so honouring the header would let whoever holds the
 * URL pick a more privileged user.
 * Throws FilesHttpError (400/401) or UnknownUserError.
 */
export function authorizeFilesRequest(
  env: EnvdEnv,
  req: IncomingMessage,
  operation: SignedOperation,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): FilesRequest {
  const query = queryOf(req.url);
  const path = query.get("path") ?? "";
  const username = query.get("username") ?? "";
  const expiration = query.get("signature_expiration") ?? undefined;
  if (expiration !== undefined && expiration !== "" && !EXPIRATION.test(expiration)) {
    throw new FilesHttpError(400, "signature_expiration must be a Unix timestamp in seconds");
  }
  let signed = false;
  const token = env.state.accessToken;
  if (token !== undefined) {
    const sent = req.headers[ACCESS_TOKEN_HEADER];
    if (typeof sent === "string" && sent !== "") {
      if (!safeEqual(sent, token)) throw new FilesHttpError(401, "access token present in header but does not match");
    } else {
      const problem = checkFileSignature({
        token,
        path,
        operation,
        username,
        signature: query.get("signature") ?? undefined,
        expiration,
        nowSeconds,
      });
      switch (problem) {
        case "missing":
          throw new FilesHttpError(401, "missing access token or signature query parameter");
        case "invalid":
          throw new FilesHttpError(401, "invalid signature");
        case "expired":
          throw new FilesHttpError(401, "signature has expired");
        case "bad_expiration":
          throw new FilesHttpError(400, "signature_expiration must be a Unix timestamp in seconds");
        case undefined:
          signed = true;
          break;
      }
    }
  }
  const explicit = username !== "" ? username : signed ? undefined : basicAuthUsername(req.headers.authorization);
  return { path, hasPath: query.has("path"), user: resolveUser(env.users, env.state, explicit) };
}

function queryOf(url: string | undefined): URLSearchParams {
  const q = url?.indexOf("?") ?? -1;
  return new URLSearchParams(q === -1 || url === undefined ? "" : url.slice(q + 1));
}
