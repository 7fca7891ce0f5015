import type { OpenApiDocument, OpenApiOperation } from "./openapi.js";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/**
 * Renders the API reference as one static HTML page: operations grouped by
 * tag, each with its parameters, request body and responses as JSON Schema.
 * Everything is escaped; the page loads nothing from elsewhere.
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const tag = op.tags?.[0] ?? "other";
      const list = byTag.get(tag) ?? [];
      list.push(renderOperation(method, path, op));
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tag, ops]) => `<section><h2 id="${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${ops.join("")}</section>`)
    .join("");
  const toc = [...byTag.keys()]
    .sort()
    .map((t) => `<a href="#${escapeHtml(t)}">${escapeHtml(t)}</a>`)
    .join(" · ");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
h1{margin-bottom:0}nav{margin:1rem 0}details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
summary{cursor:pointer}code.m{display:inline-block;min-width:4.5em;font-weight:600}
.get{color:#0a7}.post{color:#05c}.put,.patch{color:#a60}.delete{color:#c22}pre{background:#f6f6f8;padding:.6rem;overflow:auto;font-size:13px}
</style></head><body>
<h1>${escapeHtml(doc.info.title)}</h1><p>version ${escapeHtml(doc.info.version)} · <a href="/openapi.yaml">openapi.yaml</a></p>
<p>${escapeHtml(doc.info.description ?? "")}</p><nav>${toc}</nav>${sections}</body></html>`;
}

function renderOperation(method: string, path: string, op: OpenApiOperation): string {
  const parts: string[] = [];
  if (op.description) parts.push(`<p>${escapeHtml(op.description)}</p>`);
  if (op.parameters && op.parameters.length > 0) parts.push(block("Parameters", op.parameters));
  if (op.requestBody !== undefined) parts.push(block("Request body", op.requestBody));
  if (op.responses !== undefined) parts.push(block("Responses", op.responses));
  return `<details><summary><code class="m ${method}">${method.toUpperCase()}</code> <code>${escapeHtml(path)}</code> ${escapeHtml(op.summary ?? "")}</summary>${parts.join("")}</details>`;
}

function block(title: string, value: unknown): string {
  return `<h4>${title}</h4><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
