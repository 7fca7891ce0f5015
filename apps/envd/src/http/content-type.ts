import { posix } from "node:path";

/** Media types by lower-case extension; anything else is served as application/octet-stream. */
const TYPES: Readonly<Record<string, string>> = {
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  tsv: "text/tab-separated-values; charset=utf-8",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  ts: "text/plain; charset=utf-8",
  py: "text/x-python; charset=utf-8",
  sh: "text/x-shellscript; charset=utf-8",
  xml: "application/xml",
  json: "application/json",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  pdf: "application/pdf",
  wasm: "application/wasm",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  webm: "video/webm",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  bz2: "application/x-bzip2",
  xz: "application/x-xz",
  zst: "application/zstd",
  "7z": "application/x-7z-compressed",
  woff2: "font/woff2",
};

/**
 * Extensions whose content is already compressed: gzipping them again on the
 * fly burns CPU (zlib manages only ~30 MB/s on incompressible data) and saves
 * nothing, so downloads of these stay identity-encoded when the client allows.
 */
const COMPRESSED = new Set([
  "png",
  "jpg",
  "jpeg",
  "gif",
  "webp",
  "mp3",
  "mp4",
  "webm",
  "zip",
  "gz",
  "tgz",
  "bz2",
  "xz",
  "zst",
  "7z",
  "woff2",
]);

function extensionOf(name: string): string {
  return posix.extname(name).slice(1).toLowerCase();
}

/** Content-Type for a file name, by extension. */
export function contentTypeFor(name: string): string {
  return TYPES[extensionOf(name)] ?? "application/octet-stream";
}

/** Whether a file's extension says its content is already compressed. */
export function isPrecompressed(name: string): boolean {
  return COMPRESSED.has(extensionOf(name));
}

/**
 * `Content-Disposition: inline` naming the file. Header values must be
 * Latin-1 without control characters, so the plain `filename` carries an
 * ASCII fallback and `filename*` (RFC 5987/6266) the exact UTF-8 name when
 * the two differ.
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const plain = `inline; filename="${fallback}"`;
  if (fallback === name) return plain;
  return `${plain}; filename*=UTF-8''${encodeRfc5987(name)}`;
}

function encodeRfc5987(value: string): string {
  // encodeURIComponent leaves !'()* alone; RFC 5987 attr-char does not allow '()*.
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
