import pty from "node-pty";
import { execFileSync } from "node:child_process";
const p = pty.spawn("sleep", ["3"], { cols: 80, rows: 24 });
console.log("master fd", p._fd);
console.log(execFileSync("ls", ["-l", "/proc/self/fd"]).toString());
const p2 = pty.spawn("ls", ["-l", "/proc/self/fd"], { cols: 80, rows: 24 });
p2.onData((d) => process.stdout.write(d));
p2.onExit(() => { p.kill(); });
