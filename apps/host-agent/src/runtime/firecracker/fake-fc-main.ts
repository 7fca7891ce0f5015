/**
 * Test support: a stand-in `firecracker` executable. Parses `--api-sock <path>` like the real
 * binary and serves the schema-checking FakeFirecracker there until SIGTERM.
 */
import { FakeFirecracker } from "./fake-fc-server.js";
import { FcSchema } from "./fc-schema.js";

const i = process.argv.indexOf("--api-sock");
const sock = i >= 0 ? process.argv[i + 1] : undefined;
if (!sock) {
  process.stderr.write("Arguments parsing error: --api-sock is required\n");
  process.exit(152);
}
// Handler first: the supervisor may send SIGTERM as soon as the socket exists.
let fake: FakeFirecracker | undefined;
process.once("SIGTERM", () => {
  void (fake?.[Symbol.asyncDispose]() ?? Promise.resolve()).then(() => process.exit(0));
});
fake = await FakeFirecracker.listen(sock, new FcSchema());
process.stdout.write(`fake firecracker serving on ${sock}\n`);
