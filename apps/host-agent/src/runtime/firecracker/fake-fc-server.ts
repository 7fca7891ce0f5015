/**
 * Test support: a tiny stand-in for Firecracker's API server on a unix socket. It validates
 * every body against the real schema and answers like Firecracker: 204 on success, 400 with
 * `{"fault_message"}` on bad input or a call in the wrong VM state.
 */
import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { FcApiClient } from "./fc-api-client.js";
import type { FcLauncher } from "./fc-runtime.js";
import type { FcSchema } from "./fc-schema.js";

/** One request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

type VmState = "Not started" | "Running" | "Paused";

/** Calls Firecracker accepts only before InstanceStart / snapshot load. */
const PRE_BOOT = new Set(["/boot-source", "/machine-config", "/mmds/config"]);

/** A fake Firecracker API. Dispose closes the server. */
export class FakeFirecracker implements AsyncDisposable {
  readonly requests: RecordedRequest[] = [];
  state: VmState = "Not started";
  /** Set to make the next request fail with this fault message. */
  failNext: string | undefined;
  /** Makes the next call to "METHOD /path" fail with the given fault message. */
  readonly failOnce = new Map<string, string>();
  readonly #server: Server;
  #configured = false;

  private constructor(
    readonly socketPath: string,
    readonly schema: FcSchema,
  ) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const method = req.method ?? "GET";
        const path = req.url ?? "/";
        const reply = (status: number, body?: unknown) => {
          const payload = body === undefined ? "" : JSON.stringify(body);
          res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) });
          res.end(payload);
        };
        let body: unknown;
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          return reply(400, { fault_message: "Invalid JSON body" });
        }
        this.requests.push({ method, path, body });
        if (this.failNext !== undefined) {
          const msg = this.failNext;
          this.failNext = undefined;
          return reply(400, { fault_message: msg });
        }
        const planned = this.failOnce.get(`${method} ${path}`);
        if (planned !== undefined) {
          this.failOnce.delete(`${method} ${path}`);
          return reply(400, { fault_message: planned });
        }
        const problems = schema.check({ method, path, body });
        if (problems.length > 0) return reply(400, { fault_message: problems.join("; ") });
        const fault = this.#apply(method, path, body);
        if (fault) return reply(400, { fault_message: fault });
        if (method === "GET" && path === "/") {
          return reply(200, {
            app_name: "Firecracker",
            id: "anonymous-instance",
            state: this.state,
            vmm_version: "1.17.0-fake",
          });
        }
        reply(204);
      });
    });
  }

  /** Starts listening on `socketPath`. */
  static async listen(socketPath: string, schema: FcSchema): Promise<FakeFirecracker> {
    const fake = new FakeFirecracker(socketPath, schema);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once("error", reject);
      fake.#server.listen(socketPath, resolve);
    });
    return fake;
  }

  /** Models the state rules the driver depends on; returns a fault message or undefined. */
  #apply(method: string, path: string, body: unknown): string | undefined {
    const b = (body ?? {}) as Record<string, unknown>;
    if (
      method === "PUT" &&
      (PRE_BOOT.has(path) || path.startsWith("/drives/") || path.startsWith("/network-interfaces/"))
    ) {
      if (this.state !== "Not started") return "The requested operation is not supported after starting the microVM.";
      this.#configured = true;
      const id = path.split("/")[2];
      if (path.startsWith("/drives/") && id !== b["drive_id"])
        return "The id from the path does not match the id from the body!";
      if (path.startsWith("/network-interfaces/") && id !== b["iface_id"]) {
        return "The id from the path does not match the id from the body!";
      }
      return undefined;
    }
    if (method === "PUT" && path === "/actions") {
      if (b["action_type"] === "InstanceStart") {
        if (this.state !== "Not started") return "The requested operation is not supported after starting the microVM.";
        this.state = "Running";
      }
      return undefined;
    }
    if (method === "PUT" && path === "/snapshot/load") {
      if (this.state !== "Not started" || this.#configured)
        return "Loading a microVM snapshot not allowed after configuring boot-specific resources.";
      this.state = b["resume_vm"] === true ? "Running" : "Paused";
      return undefined;
    }
    if (method === "PATCH" && path === "/vm") {
      if (this.state === "Not started") return "The requested operation is not supported before starting the microVM.";
      this.state = b["state"] === "Paused" ? "Paused" : "Running";
      return undefined;
    }
    if (method === "PUT" && path === "/snapshot/create") {
      if (this.state !== "Paused") return "Cannot create snapshot: the microVM is not paused.";
      return undefined;
    }
    return undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A launcher for FirecrackerRuntime that starts a schema-checking FakeFirecracker per VMM
 * "process" (no binary, no KVM) and appends each to `fakes`, so a test reads every request.
 */
export function fakeFcLauncher(schema: FcSchema, fakes: FakeFirecracker[]): FcLauncher {
  return async ({ apiSocket }) => {
    await rm(apiSocket, { force: true });
    const fake = await FakeFirecracker.listen(apiSocket, schema);
    fakes.push(fake);
    let exit: (e: { code: number | null; signal: string | null }) => void = () => {};
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => {
      exit = r;
    });
    return {
      pid: process.pid,
      api: new FcApiClient(apiSocket),
      exited,
      [Symbol.asyncDispose]: async () => {
        await fake[Symbol.asyncDispose]();
        exit({ code: null, signal: "SIGTERM" });
      },
    };
  };
}
