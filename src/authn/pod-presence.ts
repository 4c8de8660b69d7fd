// Is the pod a credential was issued to still alive? The rule (pure), the lookup port, and its cache.
import type { Clock } from '../clock/index.js';
import type { KubernetesApi } from '../attest/index.js';

/** The facts about a live pod that login and token checks read. */
export interface PodSnapshot {
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** True once `metadata.deletionTimestamp` is set: deletion has begun and cannot be undone. */
  readonly terminating: boolean;
  /** core/v1 PodPhase. */
  readonly phase: string;
}

/** Reads one pod; `null` when it does not exist. The real one is one `GET pod` (RBAC `pods: get`). */
export interface PodLookup {
  getPod(namespace: string, name: string): Promise<PodSnapshot | null>;
}

/** One pod instance, as recorded at issuance. */
export interface PodRef {
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
}

/** The verdict on a pod instance. */
export type PodPresence =
  | { readonly present: true; readonly pod: PodSnapshot }
  | { readonly present: false; readonly reason: string };

// Pending and Running pods hold live workloads; Succeeded, Failed and Unknown do not.
const LIVE_PHASES: ReadonlySet<string> = new Set(['Pending', 'Running']);

/** The presence rule: same uid (not a namesake recreated since), not terminating, live phase. */
export function podPresence(pod: PodSnapshot | null, podUid: string): PodPresence {
  if (pod === null) return { present: false, reason: 'not found' };
  if (pod.uid !== podUid) return { present: false, reason: `recreated as uid ${pod.uid}` };
  if (pod.terminating) return { present: false, reason: 'terminating' };
  if (!LIVE_PHASES.has(pod.phase))
    return { present: false, reason: `phase ${pod.phase || '(none)'}` };
  return { present: true, pod };
}

/** Adapts attestation's Kubernetes client (`get pods`) to a {@link PodLookup}. */
export function kubernetesPodLookup(api: Pick<KubernetesApi, 'getPod'>): PodLookup {
  return {
    async getPod(namespace, name) {
      const pod = await api.getPod(namespace, name);
      if (pod === null) return null;
      const deletion = pod.metadata?.deletionTimestamp;
      return {
        uid: pod.metadata?.uid ?? '',
        labels: { ...(pod.metadata?.labels ?? {}) },
        terminating: deletion !== undefined && deletion !== null && deletion !== '',
        phase: pod.status?.phase ?? '',
      };
    },
  };
}

interface CacheEntry {
  readonly presence: PodPresence;
  readonly checkedAt: number;
}

/** Options of {@link PodPresenceCache}. */
export interface PodPresenceCacheOptions {
  /** How long a "present" verdict is reused (default 5 s): the revocation delay on deletion. */
  readonly ttlMs?: number;
  /** Entries kept before a sweep (default 50,000). */
  readonly maxEntries?: number;
}

/**
 * Pod verdicts cached per pod instance, so a deleted, recreated or terminating pod's tokens
 * stop working within `ttlMs` without one Kubernetes call per request. A "gone" verdict is
 * final (a uid never comes back, deletion and terminal phases are irreversible) and is reused
 * until swept; concurrent checks of one pod share a single lookup.
 */
export class PodPresenceCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<PodPresence>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(
    private readonly lookup: PodLookup,
    private readonly clock: Clock,
    options: PodPresenceCacheOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 50_000;
  }

  /**
   * The pod's verdict, at most `ttlMs` old. Lookup failures (Kubernetes unreachable or
   * refusing) propagate: callers fail closed.
   */
  async check(ref: PodRef): Promise<PodPresence> {
    const key = `${ref.namespace}/${ref.podName}/${ref.podUid}`;
    const now = this.clock.now();
    const cached = this.#entries.get(key);
    if (
      cached !== undefined &&
      (!cached.presence.present || now - cached.checkedAt < this.#ttlMs)
    ) {
      return cached.presence;
    }
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#fetch(key, ref);
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #fetch(key: string, ref: PodRef): Promise<PodPresence> {
    try {
      const presence = podPresence(
        await this.lookup.getPod(ref.namespace, ref.podName),
        ref.podUid,
      );
      if (this.#entries.size >= this.#maxEntries) this.#sweep();
      this.#entries.set(key, { presence, checkedAt: this.clock.now() });
      return presence;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** Drops stale "present" verdicts, then, if still full, everything (a re-check is always safe). */
  #sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.#entries) {
      if (entry.presence.present && now - entry.checkedAt >= this.#ttlMs) this.#entries.delete(key);
    }
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
  }
}
