// Public surface of the audit sinks.
export { AUDIT_APPENDED_CHANNEL, startAuditSinks } from './audit-sinks.js';
export type { AuditSinks, AuditSinksDeps } from './audit-sinks.js';
export { hallmarkEvent, payloadOf } from './sink-item.js';
export type { SinkFormat, SinkItem } from './sink-item.js';
export { DEFAULT_TIMING, SinkSender } from './sink-sender.js';
export type { SenderLock, SenderTiming, SinkLogger, SinkSenderDeps } from './sink-sender.js';
export { SinkMetrics } from './sink-metrics.js';
export type { SinkConnection, SinkTransport } from './sink-transport.js';
export { SyslogTransport } from './syslog-transport.js';
export type { SyslogTarget, SyslogTransportOptions } from './syslog-transport.js';
export { BATCH_CONTENT_TYPE, WebhookTransport, cloudEventOf } from './webhook-transport.js';
export type { WebhookTarget, WebhookTransportOptions } from './webhook-transport.js';
