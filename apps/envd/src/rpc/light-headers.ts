// Why this exists: Node 20's global `Headers` is a lazy getter that loads
// Node's whole bundled undici (fetch, dispatchers, web streams glue) the first
// time anything touches it. Connect builds a `Headers` for every request, so
// the first RPC a fresh envd served paid for compiling and running undici —
// a third of the first command's CPU time (docs/decisions/0002). envd never
// uses fetch, so the bundle (build.mjs, esbuild `inject`) replaces every
// global `Headers` reference with this class: the Fetch standard's Headers
// semantics, minus the parts only fetch itself needs (guards, immutability).

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// HTTP whitespace around a value is dropped; NUL, CR and LF inside are refused.
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

/** What `new Headers(init)` accepts, as in the Fetch standard. */
export type LightHeadersInit = Iterable<readonly [string, string] | readonly string[]> | Record<string, string>;

function normalizeName(name: string): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid header name "${text.slice(0, 64)}"`);
  return text.toLowerCase();
}

function normalizeValue(value: string): string {
  const text = String(value).replace(EDGE_WHITESPACE, "");
  // The value itself is left out of the message: it may be a credential.
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError("Headers: invalid header value");
  return text;
}

/**
 * The Fetch standard's `Headers` (case-insensitive names, values of repeated
 * names joined by ", " except `set-cookie`, sorted iteration, TypeError on
 * invalid names and values), without loading undici. Only the envd bundle
 * uses it in place of the global; code run from source keeps Node's own.
 */
export class LightHeaders {
  /** Lower-cased name → the values appended under it, in order. */
  readonly #map = new Map<string, string[]>();

  constructor(init?: LightHeadersInit) {
    if (init === undefined || init === null) return;
    if (typeof init !== "object") throw new TypeError("Headers: init must be an object");
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly string[]>) {
        if (pair.length !== 2) throw new TypeError("Headers: each init pair must have a name and a value");
        this.append(String(pair[0]), String(pair[1]));
      }
      return;
    }
    for (const name of Object.keys(init)) this.append(name, String((init as Record<string, string>)[name]));
  }

  /** Adds a value; an existing name keeps its earlier values too. */
  append(name: string, value: string): void {
    const key = normalizeName(name);
    const v = normalizeValue(value);
    const list = this.#map.get(key);
    if (list) list.push(v);
    else this.#map.set(key, [v]);
  }

  /** Replaces every value of `name`. */
  set(name: string, value: string): void {
    this.#map.set(normalizeName(name), [normalizeValue(value)]);
  }

  delete(name: string): void {
    this.#map.delete(normalizeName(name));
  }

  has(name: string): boolean {
    return this.#map.has(normalizeName(name));
  }

  /** The values of `name` joined by ", ", or null when absent. */
  get(name: string): string | null {
    return this.#map.get(normalizeName(name))?.join(", ") ?? null;
  }

  /** Every `set-cookie` value, unjoined. */
  getSetCookie(): string[] {
    return [...(this.#map.get("set-cookie") ?? [])];
  }

  /** Calls `cb(value, name, this)` in iteration order. */
  forEach(cb: (value: string, name: string, parent: LightHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) cb.call(thisArg, value, name, this);
  }

  /** [name, value] pairs sorted by name; each `set-cookie` value is its own pair. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#map.keys()].sort()) {
      const values = this.#map.get(name);
      if (!values) continue;
      if (name === "set-cookie") for (const v of values) yield [name, v];
      else yield [name, values.join(", ")];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}

/** The name esbuild's `inject` substitutes for the global `Headers` in the bundle. */
export { LightHeaders as Headers };
