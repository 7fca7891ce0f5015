/** Pure translation of hostagent process requests into envd process configs. */
import { randomBytes } from "node:crypto";
import { Signal } from "@wrenn/protocol/envd/process";
import { invalidArgument } from "./errors.js";

/** An envd ProcessConfig init. */
export interface EnvdProcessConfig {
  cmd: string;
  args: string[];
  envs: { [k: string]: string };
  cwd?: string;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}\$?$/;

/** Builds the envd config; rejects an empty command or a malformed user name. */
export function processConfig(r: {
  cmd: string;
  args: readonly string[];
  envs?: { readonly [k: string]: string };
  cwd?: string;
  user?: string;
}): EnvdProcessConfig {
  if (r.cmd === "") throw invalidArgument("cmd is required");
  userHeaders(r.user);
  return {
    cmd: r.cmd,
    args: [...r.args],
    envs: { ...(r.envs ?? {}) },
    ...(r.cwd ? { cwd: r.cwd } : {}),
  };
}

/**
 * Request headers that make envd run a call as `user`: envd picks the user
 * from `Authorization: Basic base64("<user>:")` (as the e2b SDK sends it) and
 * sets uid, gid, HOME and the rest itself. Empty means envd's default user.
 * Rejects a malformed user name.
 */
export function userHeaders(user: string | undefined): Record<string, string> {
  if (user === undefined || user === "") return {};
  if (!USER_NAME.test(user)) throw invalidArgument(`bad user name ${JSON.stringify(user)}`);
  return { authorization: `Basic ${Buffer.from(`${user}:`).toString("base64")}` };
}

/** "SIGTERM" or "SIGKILL"; empty means SIGKILL (the reference default). */
export function parseSignal(name: string): Signal {
  if (name === "" || name === "SIGKILL") return Signal.SIGKILL;
  if (name === "SIGTERM") return Signal.SIGTERM;
  throw invalidArgument(`unsupported signal ${JSON.stringify(name)} (SIGTERM or SIGKILL)`);
}

/** A process selector from a pid/tag oneof; neither set is a bad request. */
export function selector(
  s: { case: "pid"; value: number } | { case: "tag"; value: string } | { case: undefined; value?: undefined },
): { selector: { case: "pid"; value: number } | { case: "tag"; value: string } } {
  if (s.case === "pid") return { selector: { case: "pid", value: s.value } };
  if (s.case === "tag" && s.value !== "") return { selector: { case: "tag", value: s.value } };
  throw invalidArgument("a pid or a tag is required");
}

/** The default tag of a background process: "proc-" and 8 hex digits. */
export function defaultTag(): string {
  return `proc-${randomBytes(4).toString("hex")}`;
}
