import { posix } from "node:path";
import { EventType } from "@wrenn/protocol/envd/filesystem";
import type { FileState, StatCache } from "./stat-cache.js";

/**
 * One notification from Node's fs.watch on directory `dir`. Node folds
 * inotify's masks into two kinds: "change" (IN_MODIFY or IN_ATTRIB on a
 * file) and "rename" (everything else: create, delete, move from/to, and
 * any event on a subdirectory, because libuv treats the IN_ISDIR flag as
 * a rename bit — so even `chmod subdir` arrives as "rename").
 */
export interface RawEvent {
  readonly dir: string;
  readonly name: string;
  readonly kind: "rename" | "change";
}

/** A classified event: absolute path, E2B type, and the path's state after the batch. */
export interface ClassifiedEvent {
  readonly path: string;
  readonly type: EventType;
  readonly state: FileState | undefined;
}

interface PathTrack {
  exists: boolean;
  readonly knownIno: bigint | undefined;
  /** A lone "rename" on a path that is still the same inode: an attribute change, not a create. */
  attributeOnly: boolean;
  /** State the next "change" is compared with. */
  base: FileState | undefined;
  lastType: EventType | undefined;
}

/**
 * Turns one batch of raw fs.watch events into E2B events (the inotify →
 * fsnotify mapping E2B envd exposes), using `current` (lstat of every
 * event path taken after the batch, undefined when missing) and `cache`
 * (the states the watcher saw before). `cache` is updated to `current`.
 *
 * Rules, and why:
 * - "rename" toggles a path between existing and not existing. The state
 *   before the batch comes from the cache; for a path the cache does not
 *   know, it is inferred from parity (an odd number of toggles ended in
 *   the current state).
 * - A disappearance is RENAME when the same inode appeared under another
 *   path in the same batch (inotify queues MOVED_FROM and MOVED_TO
 *   together), else REMOVE. A move out of the watched tree is therefore
 *   reported as REMOVE. An appearance is CREATE, as fsnotify reports
 *   MOVED_TO.
 * - A lone "rename" on a path that still holds the inode the cache knows is
 *   an attribute change of a directory (see RawEvent): CHMOD when mode,
 *   owner or ctime changed, nothing when it is a duplicate.
 * - "change" is CHMOD when mode/owner changed, WRITE when mtime/size
 *   changed, CHMOD when only ctime changed; without a difference (more
 *   events than state changes), the kernel's own trace decides: a write
 *   sets mtime and ctime to the same instant, a chmod moves ctime alone.
 * - Consecutive identical events for a path are coalesced, as inotify
 *   itself does for unread events.
 * - An event a subdirectory's own watch reports about itself arrives
 *   named after the directory; one naming a path that neither exists nor
 *   was known is dropped as such (its parent reports the real event).
 */
export function classifyBatch(
  events: readonly RawEvent[],
  current: ReadonlyMap<string, FileState | undefined>,
  cache: StatCache,
): ClassifiedEvent[] {
  const withPaths = events
    .map((e) => ({ ...e, path: posix.join(e.dir, e.name) }))
    .filter((e) => !(e.name === posix.basename(e.dir) && !cache.has(e.path) && current.get(e.path) === undefined));
  const renames = new Map<string, number>();
  for (const e of withPaths) if (e.kind === "rename") renames.set(e.path, (renames.get(e.path) ?? 0) + 1);
  const appeared = new Map<bigint, string>();
  for (const path of renames.keys()) {
    const cur = current.get(path);
    if (cur) appeared.set(cur.ino, path);
  }

  const tracks = new Map<string, PathTrack>();
  const track = (path: string): PathTrack => {
    let t = tracks.get(path);
    if (t) return t;
    const known = cache.get(path);
    const cur = current.get(path);
    const odd = (renames.get(path) ?? 0) % 2 === 1;
    if (known) {
      const sameInode = cur !== undefined && cur.ino === known.ino;
      const replaced = cur !== undefined && odd && !sameInode;
      t = {
        exists: !replaced,
        knownIno: known.ino,
        attributeOnly: sameInode && renames.get(path) === 1,
        base: known,
        lastType: undefined,
      };
    } else {
      t = {
        exists: (cur !== undefined) !== odd,
        knownIno: undefined,
        attributeOnly: false,
        base: undefined,
        lastType: undefined,
      };
    }
    tracks.set(path, t);
    return t;
  };

  const out: ClassifiedEvent[] = [];
  for (const e of withPaths) {
    const t = track(e.path);
    const cur = current.get(e.path);
    let type: EventType | undefined;
    if (e.kind === "rename") {
      if (t.attributeOnly) {
        t.attributeOnly = false;
        if (t.base && cur && attributesDiffer(t.base, cur)) type = EventType.CHMOD;
        t.base = cur;
      } else if (t.exists) {
        const movedTo = t.knownIno === undefined ? undefined : appeared.get(t.knownIno);
        type = movedTo !== undefined && movedTo !== e.path ? EventType.RENAME : EventType.REMOVE;
        t.exists = false;
      } else {
        type = EventType.CREATE;
        t.exists = true;
        t.base = cur;
      }
    } else if (cur) {
      type = classifyChange(t.base, cur, t.lastType);
      t.base = cur;
    }
    if (type === undefined || type === t.lastType) continue;
    t.lastType = type;
    out.push({ path: e.path, type, state: cur });
  }

  for (const path of tracks.keys()) {
    const cur = current.get(path);
    if (cur) cache.set(path, cur);
    else cache.delete(path);
  }
  return out;
}

function attributesDiffer(a: FileState, b: FileState): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.ctimeNs !== b.ctimeNs;
}

function classifyChange(base: FileState | undefined, cur: FileState, lastType: EventType | undefined): EventType {
  if (base) {
    if (base.mode !== cur.mode || base.uid !== cur.uid || base.gid !== cur.gid) return EventType.CHMOD;
    if (base.mtimeNs !== cur.mtimeNs || base.size !== cur.size) return EventType.WRITE;
    if (base.ctimeNs !== cur.ctimeNs) return EventType.CHMOD;
  }
  if (lastType === EventType.WRITE || lastType === EventType.CHMOD) return lastType;
  return cur.ctimeNs === cur.mtimeNs ? EventType.WRITE : EventType.CHMOD;
}
