// Is the pod a credential was issued to still alive? The rule (pure), the lookup port, and its cache.
import { LRUCache } from 'lru-cache';
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

/** Options of {@link PodPresenceCache}. */
export interface PodPresenceCacheOptions {
  /** How long a "present" verdict is reused (default 5 s): the revocation delay on deletion. */
  readonly ttlMs?: number;
  /** Verdicts kept; the least recently used goes first (default 50,000). */
  readonly maxEntries?: number;
}

/**
 * Pod verdicts cached per pod instance, so a deleted, recreated or terminating pod's tokens
 * stop working within `ttlMs` without one Kubernetes call per request. A "gone" verdict is
 * final (a uid never comes back, deletion and terminal phases are irreversible) and is reused
 * until evicted; concurrent checks of one pod share a single lookup.
 */
export class PodPresenceCache {
  readonly #verdicts: LRUCache<string, PodPresence, PodRef>;

  constructor(
    private readonly lookup: PodLookup,
    clock: Clock,
    options: PodPresenceCacheOptions = {},
  ) {
    const ttlMs = options.ttlMs ?? 5_000;
    this.#verdicts = new LRUCache<string, PodPresence, PodRef>({
      max: options.maxEntries ?? 50_000,
      // lru-cache reuses an entry while its age is at most `ttl`; a verdict is reused only while
      // younger than ttlMs, which on a millisecond clock is an age of at most ttlMs - 1.
      ttl: Math.max(1, ttlMs - 1),
      perf: clock,
      // Read the injected clock on every check (lru-cache otherwise memoises it for 1 ms).
      ttlResolution: 0,
      fetchMethod: async (_key, _stale, { options, context: ref }) => {
        const presence = podPresence(
          await this.lookup.getPod(ref.namespace, ref.podName),
          ref.podUid,
        );
        // 0 is no TTL: a gone verdict is final.
        if (!presence.present) options.ttl = 0;
        return presence;
      },
      // A verdict evicted while its lookup runs still answers the checks waiting on it.
      ignoreFetchAbort: true,
    });
  }

  /**
   * The pod's verdict, at most `ttlMs` old. Lookup failures (Kubernetes unreachable or
   * refusing) propagate and are not remembered: callers fail closed.
   */
  async check(ref: PodRef): Promise<PodPresence> {
    const key = `${ref.namespace}/${ref.podName}/${ref.podUid}`;
    const presence = await this.#verdicts.fetch(key, { context: ref });
    // The lookup never resolves empty; lru-cache's type allows it for fetch methods that do.
    if (presence === undefined) throw new Error(`no verdict for pod ${key}`);
    return presence;
  }
}
