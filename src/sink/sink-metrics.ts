// Prometheus metrics of the audit sinks, labelled by sink.
import { Counter, Gauge, type Registry } from 'prom-client';

/** The sinks' metrics on one registry. */
export class SinkMetrics {
  readonly lag: Gauge<'sink'>;
  readonly errors: Counter<'sink'>;
  readonly delivered: Counter<'sink'>;
  readonly leader: Gauge<'sink'>;

  constructor(registry: Registry) {
    this.lag = new Gauge({
      name: 'hallmark_audit_sink_lag_rows',
      help: 'Audit rows committed but not yet confirmed by the sink receiver',
      labelNames: ['sink'] as const,
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'hallmark_audit_sink_errors_total',
      help: 'Failed attempts to deliver audit rows to the sink receiver',
      labelNames: ['sink'] as const,
      registers: [registry],
    });
    this.delivered = new Counter({
      name: 'hallmark_audit_sink_delivered_rows_total',
      help: 'Audit rows this replica delivered and had confirmed by the sink receiver',
      labelNames: ['sink'] as const,
      registers: [registry],
    });
    this.leader = new Gauge({
      name: 'hallmark_audit_sink_sender',
      help: '1 on the replica that sends for the sink (holds its lock), 0 elsewhere',
      labelNames: ['sink'] as const,
      registers: [registry],
    });
  }
}
