// The messages the cluster's primary and its workers exchange over the IPC channel (pure).

/** Primary → worker: the prepared host, once the worker said hello. */
export interface HostMessage {
  readonly kind: 'hallmark:host';
  /** 1 to HALLMARK_WORKERS; a restarted worker takes the slot of the one it replaces. */
  readonly slot: number;
  readonly databaseUrl: string;
  readonly embedded: boolean;
}

/** Primary → worker: stop serving (finish what is in flight), then exit. */
export interface StopMessage {
  readonly kind: 'hallmark:stop';
}

/** Primary → worker: `/metrics` of every worker, as asked by {@link MetricsRequest}. */
export interface MetricsAnswer {
  readonly kind: 'hallmark:metrics-text';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** Primary → worker: send your series (`registry.getMetricsAsJSON()`) for request `id`. */
export interface MetricsCollect {
  readonly kind: 'hallmark:metrics-collect';
  readonly id: number;
}

/** Everything the primary sends. */
export type PrimaryMessage = HostMessage | StopMessage | MetricsAnswer | MetricsCollect;

/** Worker → primary: ready to be told the host. */
export interface HelloMessage {
  readonly kind: 'hallmark:hello';
}

/** Worker → primary: serving on `port`. */
export interface ListeningMessage {
  readonly kind: 'hallmark:listening';
  readonly port: number;
  readonly url: string;
}

/** Worker → primary: its start failed; it exits next. */
export interface FailedMessage {
  readonly kind: 'hallmark:failed';
  readonly reason: string;
}

/** Worker → primary: the trust bundle it publishes (the primary alone writes `bundle.pem`). */
export interface BundleMessage {
  readonly kind: 'hallmark:bundle';
  readonly sequence: number;
  readonly pem: string;
}

/** Worker → primary: a `/metrics` request; the primary gathers every worker's series. */
export interface MetricsRequest {
  readonly kind: 'hallmark:metrics';
  readonly id: number;
}

/** Worker → primary: its series, answering {@link MetricsCollect}. */
export interface MetricsReport {
  readonly kind: 'hallmark:metrics-json';
  readonly id: number;
  readonly metrics: object[];
}

/** Everything a worker sends. */
export type WorkerMessage =
  HelloMessage | ListeningMessage | FailedMessage | BundleMessage | MetricsRequest | MetricsReport;

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** A worker's message, or undefined for anything else on the channel. */
export function parseWorkerMessage(value: unknown): WorkerMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.kind) {
    case 'hallmark:hello':
      return { kind: value.kind };
    case 'hallmark:listening':
      return isCount(value.port) && typeof value.url === 'string'
        ? { kind: value.kind, port: value.port, url: value.url }
        : undefined;
    case 'hallmark:failed':
      return typeof value.reason === 'string'
        ? { kind: value.kind, reason: value.reason }
        : undefined;
    case 'hallmark:bundle':
      return isCount(value.sequence) && typeof value.pem === 'string'
        ? { kind: value.kind, sequence: value.sequence, pem: value.pem }
        : undefined;
    case 'hallmark:metrics':
      return isCount(value.id) ? { kind: value.kind, id: value.id } : undefined;
    case 'hallmark:metrics-json':
      return isCount(value.id) && Array.isArray(value.metrics) && value.metrics.every(isObject)
        ? { kind: value.kind, id: value.id, metrics: value.metrics }
        : undefined;
    default:
      return undefined;
  }
}

/** The primary's message, or undefined for anything else on the channel. */
export function parsePrimaryMessage(value: unknown): PrimaryMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.kind) {
    case 'hallmark:host':
      return isCount(value.slot) &&
        typeof value.databaseUrl === 'string' &&
        typeof value.embedded === 'boolean'
        ? {
            kind: value.kind,
            slot: value.slot,
            databaseUrl: value.databaseUrl,
            embedded: value.embedded,
          }
        : undefined;
    case 'hallmark:stop':
      return { kind: value.kind };
    case 'hallmark:metrics-collect':
      return isCount(value.id) ? { kind: value.kind, id: value.id } : undefined;
    case 'hallmark:metrics-text':
      return isCount(value.id)
        ? {
            kind: value.kind,
            id: value.id,
            text: typeof value.text === 'string' ? value.text : undefined,
            error: typeof value.error === 'string' ? value.error : undefined,
          }
        : undefined;
    default:
      return undefined;
  }
}
