// Control plane security primitives: node --import tsx bench/control-plane/auth.ts [--quick]
// (also ./wrenn bench control-plane-auth). One table; each row names its floor
// when there is a meaningful one, measured in the same run.
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { apiKeyLookupHash, generateApiKey } from "../../apps/control-plane/src/auth/api-key.js";
import { JwtCodec } from "../../apps/control-plane/src/auth/jwt.js";
import { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword } from "../../apps/control-plane/src/auth/password.js";
import { newPublicId } from "../../apps/control-plane/src/ids/public-id.js";
import { InternalCa } from "../../apps/control-plane/src/pki/internal-ca.js";
import { below, fmtRatio, fmtSummary } from "../lib/format.js";
import { summarize, timeRuns } from "../lib/stats.js";
import { type Row, renderTable } from "../lib/table.js";

const { values } = parseArgs({ options: { quick: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  process.stdout.write("Usage: ./wrenn bench control-plane-auth [--quick]\n  --quick  fewer runs\n");
  process.exit(0);
}
const quick = values.quick === true;
const n = (full: number) => (quick ? Math.max(3, Math.round(full / 5)) : full);
const rows: Row[] = [];

// Passwords: what a login costs. The target is a usability bound (a login
// should not feel slow), the lower bound a sanity check that the KDF is not cheap.
const { logN, r, p } = DEFAULT_SCRYPT_PARAMS;
const stored = await hashPassword("correct horse battery staple");
const hash = summarize(await timeRuns(n(15), () => hashPassword("correct horse battery staple"), 2));
const verify = summarize(await timeRuns(n(15), () => verifyPassword("correct horse battery staple", stored), 2));
for (const [metric, s] of [
  [`password hash (scrypt ln=${logN},r=${r},p=${p})`, hash],
  ["password verify", verify],
] as const) {
  rows.push({
    metric,
    value: fmtSummary(s, "ms"),
    target: "20–500 ms",
    verdict: s.median >= 20 && s.median < 500 ? "ok" : "MISS",
  });
}

// JWT: every authenticated request verifies one. Floor: the bare HMAC-SHA256 over the same bytes.
const secret = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz";
const jwt = new JwtCodec({ secret });
const user = newPublicId("user").id;
const team = newPublicId("team").id;
const token = jwt.signUser({ userId: user, teamId: team, role: "member", email: "bench@example.com", name: "Bench" });
const signingInput = token.slice(0, token.lastIndexOf("."));
const batch = 1000;
const perOp = (ms: number[]) => ms.map((t) => t / batch);
const loop = (fn: () => unknown) => async () => {
  for (let i = 0; i < batch; i++) fn();
};
const hmacFloor = summarize(
  perOp(
    await timeRuns(
      n(30),
      loop(() => createHmac("sha256", secret).update(signingInput).digest()),
    ),
  ),
);
const jwtVerify = summarize(
  perOp(
    await timeRuns(
      n(30),
      loop(() => jwt.verifyUser(token)),
    ),
  ),
);
const jwtSign = summarize(
  perOp(
    await timeRuns(
      n(30),
      loop(() => jwt.signUser({ userId: user, teamId: team, role: "member", email: "b@e.com", name: "B" })),
    ),
  ),
);
rows.push({
  metric: "JWT verifyUser",
  value: fmtSummary(jwtVerify, "ms", 4),
  floor: fmtSummary(hmacFloor, "ms", 4),
  ratio: fmtRatio(jwtVerify.median, hmacFloor.median),
  target: "< 0.1 ms",
  verdict: below(jwtVerify.median, 0.1),
});
rows.push({
  metric: "JWT signUser",
  value: fmtSummary(jwtSign, "ms", 4),
  target: "< 0.1 ms",
  verdict: below(jwtSign.median, 0.1),
});

// API keys: the per-request check is a format test plus one SHA-256.
const key = generateApiKey().plaintext;
const keyLookup = summarize(
  perOp(
    await timeRuns(
      n(30),
      loop(() => apiKeyLookupHash(key)),
    ),
  ),
);
rows.push({
  metric: "API key lookup hash",
  value: fmtSummary(keyLookup, "ms", 4),
  target: "< 0.05 ms",
  verdict: below(keyLookup.median, 0.05),
});

// Certificates: host registration/refresh issues one; the control plane renews its own every 12 h.
const ca = await InternalCa.create();
const host = newPublicId("host").id;
const hostCert = summarize(
  await timeRuns(n(30), () => ca.issueHostCert({ hostId: host, address: "10.0.0.5:50051" }), 3),
);
const clientCert = summarize(await timeRuns(n(30), () => ca.issueClientCert(), 3));
rows.push({
  metric: "issue host certificate (P-256)",
  value: fmtSummary(hostCert, "ms"),
  target: "< 50 ms",
  verdict: below(hostCert.median, 50),
});
rows.push({
  metric: "issue client certificate",
  value: fmtSummary(clientCert, "ms"),
  target: "< 50 ms",
  verdict: below(clientCert.median, 50),
});

process.stdout.write(
  renderTable(`control plane auth primitives (${quick ? "quick" : "full"}; Node ${process.version})`, rows),
);
