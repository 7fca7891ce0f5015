import assert from "node:assert/strict";
import { test } from "node:test";
import { trapInterrupts } from "./interrupt.js";

test("the first SIGINT aborts the signal and says cleanup runs; dispose removes the handlers", () => {
  const before = process.listenerCount("SIGINT");
  const notes: string[] = [];
  {
    using trap = trapInterrupts(3, (t) => notes.push(t));
    assert.equal(process.listenerCount("SIGINT"), before + 1);
    assert.equal(trap.signal.aborted, false);
    process.emit("SIGINT", "SIGINT");
    assert.equal(trap.signal.aborted, true);
    assert.match(String((trap.signal.reason as Error).message), /interrupted by SIGINT/);
    process.emit("SIGTERM", "SIGTERM");
    assert.equal(notes.length, 2);
    assert.match(notes[0] ?? "", /cleaning up \(signal 2 more/);
    assert.match(notes[1] ?? "", /SIGTERM: .*1 more/);
  }
  assert.equal(process.listenerCount("SIGINT"), before);
});
