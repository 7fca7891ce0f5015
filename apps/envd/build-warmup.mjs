// The build's warm-up of a freshly built envd before it writes its V8 code
// cache (build.mjs): the cache holds every function compiled so far, so what
// runs here is what a capsule's first calls find already compiled. It does
// what a host agent and the e2b SDK do first — /init, commands over binary
// and JSON Connect, pipes and a PTY, filesystem RPCs, a file up and down —
// with hand-made requests, so the build needs no client library.

const TOKEN = "build-warmup-token";

/** A Connect streaming envelope: flags byte, big-endian length, message. */
function envelope(message) {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(out, 5);
  return out;
}

/** A protobuf length-delimited field (wire type 2) with a one-byte tag and length. */
function field(number, bytes) {
  const value = Buffer.from(bytes);
  if (value.length > 127) throw new Error("warm-up field too long for a one-byte length");
  return Buffer.concat([Buffer.from([(number << 3) | 2, value.length]), value]);
}

/** POSTs and reads the whole answer; fails the build on a non-2xx status. */
async function post(url, contentType, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": contentType, "connect-protocol-version": "1", "x-access-token": TOKEN },
    body,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`warm-up: ${new URL(url).pathname} answered ${res.status}`);
  return bytes;
}

/** Runs one streaming Start and checks its last frame (end of stream) holds no error. */
async function start(baseUrl, contentType, message) {
  const bytes = await post(`${baseUrl}/process.Process/Start`, contentType, envelope(message));
  let off = 0;
  let last = "";
  while (off + 5 <= bytes.length) {
    const len = bytes.readUInt32BE(off + 1);
    if (bytes[off] & 0x02) last = bytes.subarray(off + 5, off + 5 + len).toString("utf8");
    off += 5 + len;
  }
  if (last.includes('"error"')) throw new Error(`warm-up: Start failed: ${last.slice(0, 200)}`);
}

/**
 * Exercises envd at `baseUrl` the way a capsule's first minutes do; `scratch`
 * is a directory the files calls may write in. Throws on any failure: a
 * build whose envd cannot do these is broken anyway.
 */
export async function warmUp(baseUrl, scratch) {
  await post(
    `${baseUrl}/init`,
    "application/json",
    JSON.stringify({ accessToken: TOKEN, envVars: { WARMUP: "1" }, timestamp: new Date().toISOString() }),
  );
  // The host agent's binary Connect, then the SDK's JSON, each a few times so
  // the per-call paths (not only the first-call setup) are compiled too.
  const binaryTrue = field(1, field(1, "true"));
  for (let i = 0; i < 3; i++) await start(baseUrl, "application/connect+proto", binaryTrue);
  const jsonEcho = JSON.stringify({ process: { cmd: "/bin/sh", args: ["-c", "echo warm; echo err >&2"] } });
  for (let i = 0; i < 3; i++) await start(baseUrl, "application/connect+json", jsonEcho);
  const pty = JSON.stringify({
    process: { cmd: "/bin/sh", args: ["-c", "echo pty"] },
    pty: { size: { cols: 80, rows: 24 } },
  });
  await start(baseUrl, "application/connect+json", pty);
  for (const [rpc, json] of [
    ["Stat", { path: scratch }],
    ["ListDir", { path: scratch, depth: 1 }],
    ["MakeDir", { path: `${scratch}/dir` }],
  ]) {
    await post(`${baseUrl}/filesystem.Filesystem/${rpc}`, "application/json", JSON.stringify(json));
  }
  await post(`${baseUrl}/filesystem.Filesystem/Stat`, "application/proto", field(1, scratch));
  const file = `${baseUrl}/files?path=${encodeURIComponent(`${scratch}/file.txt`)}`;
  await post(file, "application/octet-stream", "warm");
  const down = await fetch(file, { headers: { "x-access-token": TOKEN } });
  if ((await down.text()) !== "warm") throw new Error("warm-up: /files did not give back what was uploaded");
}
