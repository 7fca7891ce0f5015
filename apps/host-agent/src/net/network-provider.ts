/** A capsule's network as the rest of the agent sees it. */
export interface NetworkSlot {
  /** Slot number; its /30 and every name derive from it. */
  readonly slot: number;
  /** The capsule this slot belongs to. */
  readonly sandboxId: string;
  /** Network namespace name (`ip netns` name). */
  readonly name: string;
  /** Path to bind or `setns` into, e.g. `/run/netns/wrn-7`. */
  readonly netnsPath: string;
  /** Host end of the veth pair. */
  readonly hostInterface: string;
  /** Host end address: the capsule's default gateway. Capsules cannot connect to it. */
  readonly hostIp: string;
  /** The capsule's address on `eth0`: the host reaches envd and user ports here. */
  readonly guestIp: string;
  /** Whether the capsule may currently open connections beyond the host. */
  readonly egress: boolean;
}

/** A slot held by a capsule; disposing it releases the slot (idempotent). */
export type AcquiredSlot = NetworkSlot & AsyncDisposable;

/** Per-acquire options. */
export interface AcquireOptions {
  /** Start with internet egress on (it can be toggled later with setEgress). */
  readonly allowEgress: boolean;
}

/**
 * Hands out isolated network slots. Implementations: `NetnsNetwork` (real namespaces, veth,
 * nftables) and `MemoryNetwork` (bookkeeping only); both pass `networkContract`.
 * Disposing the provider releases every slot it handed out and its pre-created pool.
 */
export interface NetworkProvider extends AsyncDisposable {
  /** Prepares the host (removes leftovers, installs rules) and fills the pool. Idempotent. */
  start(signal?: AbortSignal): Promise<void>;
  /**
   * Takes a slot for `sandboxId`: from the pool when one is ready, else created on the spot.
   * Rejects with `resource_exhausted` when every slot is in use, `failed_precondition` when
   * `sandboxId` already holds one, and with the signal's reason when it aborts.
   */
  acquire(sandboxId: string, options: AcquireOptions, signal?: AbortSignal): Promise<AcquiredSlot>;
  /** Turns egress on or off for a held slot; `not_found` if the slot was released. */
  setEgress(slot: NetworkSlot, allowed: boolean, signal?: AbortSignal): Promise<void>;
  /** Removes everything carrying this provider's name prefix that it does not currently own. */
  cleanupLeftovers(signal?: AbortSignal): Promise<void>;
  /** The slots currently held by capsules (not the idle pool). */
  held(): readonly NetworkSlot[];
  /** How many slots are pre-created and idle. */
  readonly poolReady: number;
}
