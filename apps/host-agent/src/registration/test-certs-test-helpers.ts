/**
 * A throwaway CA and certificates for TLS tests, made with `openssl` (ECDSA P-256, one day),
 * like the control plane's internal CA does in production. @internal
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, ExecFileRunner, runChecked } from "../exec/command-runner.js";

/** PEM pair. @internal */
export interface Pem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA that issues server (host) and client (control plane) certificates. @internal */
export class TestCa implements AsyncDisposable {
  private constructor(
    readonly dir: string,
    readonly ca: Pem,
    readonly runner: CommandRunner,
  ) {}

  static async create(runner: CommandRunner = new ExecFileRunner()): Promise<TestCa> {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-ca-"));
    await runChecked(runner, [
      "openssl",
      "req",
      "-x509",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "ca.key"),
      "-out",
      join(dir, "ca.crt"),
      "-days",
      "1",
      "-subj",
      "/CN=wrenn-test-ca",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    const ca = {
      certPem: await readFile(join(dir, "ca.crt"), "utf8"),
      keyPem: await readFile(join(dir, "ca.key"), "utf8"),
    };
    return new TestCa(dir, ca, runner);
  }

  /** Issues a leaf: `server` with IP/DNS SANs from `host`, or `client`. */
  async issue(cn: string, usage: "server" | "client", host = "127.0.0.1"): Promise<Pem> {
    const id = randomBytes(6).toString("hex");
    const key = join(this.dir, `${id}.key`);
    const csr = join(this.dir, `${id}.csr`);
    const crt = join(this.dir, `${id}.crt`);
    const ext = join(this.dir, `${id}.ext`);
    const san = /^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
    await writeFile(
      ext,
      usage === "server"
        ? `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`
        : "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    const r = this.runner;
    await runChecked(r, [
      "openssl",
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      `/CN=${cn}`,
    ]);
    await runChecked(r, [
      "openssl",
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      join(this.dir, "ca.crt"),
      "-CAkey",
      join(this.dir, "ca.key"),
      "-set_serial",
      `0x${randomBytes(8).toString("hex")}`,
      "-days",
      "1",
      "-extfile",
      ext,
      "-out",
      crt,
    ]);
    return { certPem: await readFile(crt, "utf8"), keyPem: await readFile(key, "utf8") };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
