import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Filesystem } from "@wrenn/protocol/envd/filesystem";

/** Options of `fsClient`. */
export interface FsClientOptions {
  /** Account the requests run as (Basic auth). @default "root" */
  readonly user?: string;
  /** Protobuf binary instead of the SDK's JSON. @default false */
  readonly binary?: boolean;
  /** Extra request headers, e.g. Keepalive-Ping-Interval. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A Connect client of envd's Filesystem service over real HTTP/1.1, as the
 * e2b SDK talks to it. @internal — for tests.
 */
export function fsClient(baseUrl: string, opts: FsClientOptions = {}): Client<typeof Filesystem> {
  const user = opts.user ?? "root";
  const headers: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Basic ${Buffer.from(`${user}:`).toString("base64")}`);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req.header.set(k, v);
    return next(req);
  };
  return createClient(
    Filesystem,
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: opts.binary ?? false,
      interceptors: [headers],
    }),
  );
}

/** Resolves to the ConnectError code a promise rejects with (fails when it resolves). @internal */
export async function codeOf(promise: Promise<unknown>): Promise<Code> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  throw new Error("expected the call to fail");
}

/** Name of a Connect code, for readable assertion messages. @internal */
export function codeName(code: Code): string {
  return Code[code];
}
