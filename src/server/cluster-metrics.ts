// `/metrics` of a cluster: the primary asks every serving worker for its series and adds them up.
import { AggregatorRegistry } from 'prom-client';
import type { MetricsReport, PrimaryMessage } from './cluster-messages.js';

/** How long the primary waits for the workers' series; a worker that does not answer is left out. */
const GATHER_WAIT_MS = 2_000;

/** A worker the primary can ask. */
export interface MetricsPeer {
  send(message: PrimaryMessage): void;
}

/**
 * Gathers the series of the workers that serve. Each worker labels its series with its slot,
 * so prom-client's aggregation (a sum per label set) keeps every worker's apart. A worker
 * that is starting or stuck is left out rather than failing the scrape.
 */
export class ClusterMetrics {
  readonly contentType = AggregatorRegistry.PROMETHEUS_CONTENT_TYPE;
  #nextId = 0;
  readonly #pending = new Map<number, (report: MetricsReport) => void>();

  /** A worker's answer to a request of {@link gather}. */
  received(report: MetricsReport): void {
    this.#pending.get(report.id)?.(report);
  }

  /** Asks `peers` for their series and returns their sum as Prometheus text. */
  async gather(peers: readonly MetricsPeer[]): Promise<string> {
    const id = this.#nextId++;
    const reports: object[][] = [];
    await new Promise<void>((resolve) => {
      let waiting = peers.length;
      const timer = setTimeout(resolve, GATHER_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#pending.set(id, (report) => {
        reports.push(report.metrics);
        if (--waiting === 0) done();
      });
      if (waiting === 0) done();
      for (const peer of peers) peer.send({ kind: 'hallmark:metrics-collect', id });
    });
    this.#pending.delete(id);
    return AggregatorRegistry.aggregate(reports).metrics();
  }
}
