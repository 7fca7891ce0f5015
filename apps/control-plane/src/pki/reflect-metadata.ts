/**
 * The few `Reflect` metadata functions that `@peculiar/x509`'s dependency
 * injection (tsyringe) requires to be present before it loads.
 *
 * The library asks the application to install a polyfill package; this is a
 * small, self-contained equivalent of the part it uses (define, read own and
 * inherited metadata) so the control plane needs no extra dependency. It is
 * only installed when no implementation is present, so a full polyfill
 * loaded earlier wins. Import this module before `@peculiar/x509` (see `x509.ts`).
 */

type Key = string | symbol | undefined;
type MetadataTarget = object;

const store = new WeakMap<MetadataTarget, Map<Key, Map<unknown, unknown>>>();

function ownMap(target: MetadataTarget, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function defineMetadata(key: unknown, value: unknown, target: MetadataTarget, property?: Key): void {
  ownMap(target, property, true)?.set(key, value);
}

function hasOwnMetadata(key: unknown, target: MetadataTarget, property?: Key): boolean {
  return ownMap(target, property, false)?.has(key) ?? false;
}

function getOwnMetadata(key: unknown, target: MetadataTarget, property?: Key): unknown {
  return ownMap(target, property, false)?.get(key);
}

function hasMetadata(key: unknown, target: MetadataTarget, property?: Key): boolean {
  for (let t: MetadataTarget | null = target; t !== null; t = Object.getPrototypeOf(t)) {
    if (hasOwnMetadata(key, t, property)) return true;
  }
  return false;
}

function getMetadata(key: unknown, target: MetadataTarget, property?: Key): unknown {
  for (let t: MetadataTarget | null = target; t !== null; t = Object.getPrototypeOf(t)) {
    if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
  }
  return undefined;
}

function metadata(key: unknown, value: unknown) {
  return (target: MetadataTarget, property?: Key) => defineMetadata(key, value, target, property);
}

/** The functions installed on `Reflect` (exported for tests). @internal */
export const reflectMetadataFunctions = {
  defineMetadata,
  hasOwnMetadata,
  getOwnMetadata,
  hasMetadata,
  getMetadata,
  metadata,
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect["getMetadata"] !== "function") {
  for (const [name, fn] of Object.entries(reflectMetadataFunctions)) {
    Object.defineProperty(Reflect, name, { value: fn, writable: true, configurable: true });
  }
}
