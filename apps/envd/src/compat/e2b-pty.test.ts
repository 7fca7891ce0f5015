import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";
import { sdkSandbox } from "./sdk-sandbox.js";

const encoder = new TextEncoder();

/** Collects PTY output and lets a test wait for a pattern in it. */
class Screen {
  #text = "";
  #waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  readonly decoder = new TextDecoder();

  onData = (bytes: Uint8Array): void => {
    this.#text += this.decoder.decode(bytes, { stream: true });
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.re.test(this.#text)) return true;
      w.resolve();
      return false;
    });
  };

  get text(): string {
    return this.#text;
  }

  waitFor(re: RegExp, timeoutMs = 10_000): Promise<void> {
    if (re.test(this.#text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${re} in PTY output:\n${this.#text.slice(-500)}`)),
        timeoutMs,
      );
      this.#waiters.push({
        re,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

describe("e2b SDK: pty", { timeout: 60_000 }, () => {
  test("create, type, resize, reconnect, kill", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const screen = new Screen();
    const terminal = await sbx.pty.create({ cols: 80, rows: 24, onData: screen.onData, timeoutMs: 0 });
    assert.ok(terminal.pid > 0);

    await sbx.pty.sendInput(terminal.pid, encoder.encode("echo $((6*7))-$TERM\n"));
    await screen.waitFor(/42-xterm-256color/);

    await sbx.pty.sendInput(terminal.pid, encoder.encode("stty size\n"));
    await screen.waitFor(/24 80/);
    await sbx.pty.resize(terminal.pid, { cols: 132, rows: 40 });
    await sbx.pty.sendInput(terminal.pid, encoder.encode("stty size\n"));
    await screen.waitFor(/40 132/);

    // Another client reattaches to the same terminal and sees new output.
    await terminal.disconnect();
    const second = new Screen();
    const again = await sbx.pty.connect(terminal.pid, { onData: second.onData, timeoutMs: 0 });
    await sbx.pty.sendInput(terminal.pid, encoder.encode("echo reattached-$((1+1))\n"));
    await second.waitFor(/reattached-2/);

    assert.equal(await sbx.pty.kill(terminal.pid), true);
    const result = await again.wait().catch((err: unknown) => err);
    assert.ok(result, "the handle reports the end of the killed terminal");
    const listed = await sbx.commands.list();
    assert.equal(listed.filter((p) => p.pid === terminal.pid).length, 0);
  });

  test("exit from the shell ends the PTY with its exit code", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const screen = new Screen();
    const terminal = await sbx.pty.create({ cols: 80, rows: 24, onData: screen.onData, timeoutMs: 0 });
    await sbx.pty.sendInput(terminal.pid, encoder.encode("exit 0\n"));
    const result = await terminal.wait();
    assert.equal(result.exitCode, 0);
  });

  test("runs as the requested user in the requested directory", async () => {
    await using t = await useEnvd();
    const sbx = await sdkSandbox(t);
    const screen = new Screen();
    const terminal = await sbx.pty.create({
      cols: 80,
      rows: 24,
      onData: screen.onData,
      user: "user",
      cwd: t.userHome,
      timeoutMs: 0,
    });
    await sbx.pty.sendInput(terminal.pid, encoder.encode('echo "U=$(id -u) D=$(pwd)"\n'));
    await screen.waitFor(new RegExp(`U=\\d+ D=${t.userHome.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    assert.doesNotMatch(screen.text, /U=0 /);
    await sbx.pty.kill(terminal.pid);
  });
});
