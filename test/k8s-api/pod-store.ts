// The test API's pods: real Pod JSON kept in memory, keyed by namespace and name.
import { randomUUID } from 'node:crypto';

/** Pod phases (core/v1 PodStatus.phase). */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A Pod as the API server serialises it (the fields the tests and Hallmark care about). */
export interface PodJson {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  spec: {
    serviceAccountName: string;
    nodeName?: string;
    containers: { name: string; image: string }[];
  };
  status: { phase: PodPhase; podIP?: string };
}

/** What a test says about a pod; everything else gets a realistic default. */
export interface PodInput {
  namespace: string;
  name: string;
  /** Default `default`, as the API server's ServiceAccount admission sets it. */
  serviceAccountName?: string;
  labels?: Record<string, string>;
  /** Default `node-1`; `null` for a pod not yet scheduled. */
  nodeName?: string | null;
  /** Default `Running`. */
  phase?: PodPhase;
  /** Default a fresh UUID, like the API server assigns. */
  uid?: string;
}

function nowRfc3339(offsetMs = 0): string {
  // Test infrastructure imitating Kubernetes: real time, second precision like metav1.Time.
  return new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}

/** In-memory pods. Returned objects are copies, so callers cannot change stored state. */
export class PodStore {
  private readonly pods = new Map<string, PodJson>();
  private resourceVersion = 1000;

  private static key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  /** Creates (or replaces) a pod and returns its JSON. */
  add(input: PodInput): PodJson {
    const pod: PodJson = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: input.name,
        namespace: input.namespace,
        uid: input.uid ?? randomUUID(),
        resourceVersion: this.nextVersion(),
        creationTimestamp: nowRfc3339(),
        labels: { ...(input.labels ?? {}) },
      },
      spec: {
        serviceAccountName: input.serviceAccountName ?? 'default',
        containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
      },
      status: { phase: input.phase ?? 'Running', podIP: '10.244.0.17' },
    };
    const nodeName = input.nodeName === undefined ? 'node-1' : input.nodeName;
    if (nodeName !== null) pod.spec.nodeName = nodeName;
    this.pods.set(PodStore.key(input.namespace, input.name), pod);
    return structuredClone(pod);
  }

  /** The pod's JSON, or undefined. The stored object itself: read-only use inside the package. */
  peek(namespace: string, name: string): PodJson | undefined {
    return this.pods.get(PodStore.key(namespace, name));
  }

  /** A copy of the pod's JSON, or undefined. */
  get(namespace: string, name: string): PodJson | undefined {
    const pod = this.peek(namespace, name);
    return pod === undefined ? undefined : structuredClone(pod);
  }

  /** Removes the pod; true when it existed. */
  delete(namespace: string, name: string): boolean {
    return this.pods.delete(PodStore.key(namespace, name));
  }

  /**
   * Marks the pod terminating as a graceful delete does: deletionTimestamp = now + grace
   * period, the pod stays readable until the kubelet finishes.
   */
  markTerminating(namespace: string, name: string, gracePeriodSeconds: number): PodJson {
    const pod = this.require(namespace, name);
    pod.metadata.deletionTimestamp = nowRfc3339(gracePeriodSeconds * 1000);
    pod.metadata.deletionGracePeriodSeconds = gracePeriodSeconds;
    pod.metadata.resourceVersion = this.nextVersion();
    return structuredClone(pod);
  }

  /** Deletes and creates the pod again under the same name: same spec, new uid. */
  recreate(namespace: string, name: string): PodJson {
    const old = this.require(namespace, name);
    return this.add({
      namespace,
      name,
      serviceAccountName: old.spec.serviceAccountName,
      labels: old.metadata.labels,
      nodeName: old.spec.nodeName ?? null,
      phase: 'Running',
    });
  }

  /** Sets status.phase. */
  setPhase(namespace: string, name: string, phase: PodPhase): PodJson {
    const pod = this.require(namespace, name);
    pod.status.phase = phase;
    pod.metadata.resourceVersion = this.nextVersion();
    return structuredClone(pod);
  }

  /** Every pod, copied. */
  list(): PodJson[] {
    return [...this.pods.values()].map((p) => structuredClone(p));
  }

  private require(namespace: string, name: string): PodJson {
    const pod = this.peek(namespace, name);
    if (pod === undefined) throw new Error(`pod ${namespace}/${name} does not exist`);
    return pod;
  }
}
