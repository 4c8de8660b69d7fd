// The webhook sink: batches of CloudEvents 1.0 (structured JSON batch mode) POSTed over HTTPS.
import { readFile } from 'node:fs/promises';
import { CloudEvent } from 'cloudevents';
import { Agent, request } from 'undici';
import type { OcsfProduct } from '../ocsf/index.js';
import { OCSF_CLASSES, mappingOf } from '../ocsf/index.js';
import { payloadOf, type SinkFormat, type SinkItem } from './sink-item.js';
import type { SinkConnection, SinkTransport } from './sink-transport.js';

/** Where and how to reach the receiver (`HALLMARK_AUDIT_WEBHOOK*`). */
export interface WebhookTarget {
  /** An https:// URL. */
  readonly url: string;
  /** PEM trust anchors for the receiver's certificate; default: Node's CA store. */
  readonly ca?: string;
  /** File holding the bearer token, read before every batch (so a rotated token is used). */
  readonly tokenFile?: string;
}

/** Options of {@link WebhookTransport}. */
export interface WebhookTransportOptions {
  readonly target: WebhookTarget;
  readonly format: SinkFormat;
  readonly product: OcsfProduct;
  /** The CloudEvents `source` of every event (a URI-reference naming this Hallmark). */
  readonly source: string;
  /** Bound on one POST; default 10 s. */
  readonly timeoutMs?: number;
}

/** CloudEvents 1.0 JSON format §4 (batch): the media type of a batch body. */
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

/** The CloudEvent of a sink item; its id is fixed by its kind and seq, so receivers de-duplicate. */
export function cloudEventOf(
  item: SinkItem,
  options: Pick<WebhookTransportOptions, 'format' | 'product' | 'source'>,
): CloudEvent<Record<string, unknown>> {
  const data = payloadOf(item, options.format, options.product);
  // Sequence extension: a string compared lexicographically, so the seq is zero-padded.
  const sequence = String(item.seq).padStart(20, '0');
  if (item.kind === 'checkpoint') {
    return new CloudEvent({
      id: `checkpoint-${item.seq}`,
      source: options.source,
      type: 'io.hallmark.audit.checkpoint.v1',
      time: item.time,
      datacontenttype: 'application/json',
      data,
      sequence,
    });
  }
  const { record } = item;
  const mapping = mappingOf(record.action);
  return new CloudEvent({
    id: `audit-${record.seq}`,
    source: options.source,
    type: 'io.hallmark.audit.record.v1',
    subject: record.action,
    time: record.time,
    datacontenttype: 'application/json',
    ...(options.format === 'ocsf' && mapping
      ? { dataschema: `https://schema.ocsf.io/1.8.0/classes/${OCSF_CLASSES[mapping.class].name}` }
      : {}),
    data,
    sequence,
  });
}

/** An HTTPS receiver of CloudEvents batches; a 2xx answer confirms the batch. */
export class WebhookTransport implements SinkTransport {
  readonly name = 'webhook';
  readonly #options: WebhookTransportOptions;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: WebhookTransportOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#agent = new Agent({
      connect: { ca: options.target.ca, timeout: this.#timeoutMs },
      connections: 1,
    });
  }

  async open(): Promise<SinkConnection> {
    return {
      acknowledges: true,
      send: (items) => this.#post(items),
      finish: async () => undefined,
      destroy: () => undefined,
    };
  }

  async #post(items: readonly SinkItem[]): Promise<void> {
    const { target } = this.#options;
    const token =
      target.tokenFile === undefined
        ? undefined
        : (await readFile(target.tokenFile, 'utf8')).trim();
    const body = JSON.stringify(items.map((item) => cloudEventOf(item, this.#options)));
    const response = await request(target.url, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: {
        'content-type': `${BATCH_CONTENT_TYPE}; charset=utf-8`,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw Object.assign(new Error(`webhook receiver answered ${response.statusCode}`), {
        code: `HTTP_${response.statusCode}`,
      });
    }
  }

  /** Closes the agent's connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}
