// Syslog receivers over TLS (RFC 5425), TCP (RFC 6587) and UDP (RFC 5426).
import { createSocket } from 'node:dgram';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { OcsfProduct } from '../ocsf/index.js';
import { payloadOf, type SinkFormat, type SinkItem } from './sink-item.js';
import { withTimeout, type SinkConnection, type SinkTransport } from './sink-transport.js';
import {
  octetCountingFrame,
  syslogDatagram,
  syslogMessage,
  type SyslogOrigin,
} from './syslog-message.js';

/** Where and how to reach the receiver (`HALLMARK_AUDIT_SYSLOG*`). */
export interface SyslogTarget {
  readonly protocol: 'tls' | 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  /** PEM trust anchors for the receiver's certificate (TLS); default: Node's CA store. */
  readonly ca?: string;
  /** PEM client certificate chain and key, for receivers that ask for one (TLS). */
  readonly cert?: string;
  readonly key?: string;
}

/** Options of {@link SyslogTransport}. */
export interface SyslogTransportOptions {
  readonly target: SyslogTarget;
  readonly format: SinkFormat;
  readonly product: OcsfProduct;
  readonly origin: SyslogOrigin;
  /** Bound on connecting, on a blocked write and on the receiver's close; default 10 s. */
  readonly timeoutMs?: number;
}

/** A syslog receiver. */
export class SyslogTransport implements SinkTransport {
  readonly name = 'syslog';
  readonly #options: SyslogTransportOptions;
  readonly #timeoutMs: number;

  constructor(options: SyslogTransportOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  #payload(item: SinkItem): Record<string, unknown> {
    return payloadOf(item, this.#options.format, this.#options.product);
  }

  async open(): Promise<SinkConnection> {
    const { target } = this.#options;
    if (target.protocol === 'udp') return this.#openUdp();
    const socket =
      target.protocol === 'tls'
        ? tlsConnect({
            host: target.host,
            port: target.port,
            // RFC 5425 §5.2: the receiver's certificate is checked against the configured name.
            ...(isIP(target.host) ? {} : { servername: target.host }),
            ca: target.ca,
            cert: target.cert,
            key: target.key,
            minVersion: 'TLSv1.2', // RFC 5425 §4.2 as updated by RFC 9662
          })
        : netConnect({ host: target.host, port: target.port });
    const ready = target.protocol === 'tls' ? 'secureConnect' : 'connect';
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once(ready, resolve);
          socket.once('error', reject);
        }),
        this.#timeoutMs,
        `syslog receiver ${target.host}:${target.port} did not answer`,
      );
    } catch (err) {
      socket.destroy();
      throw err;
    }
    socket.setKeepAlive(true, 10_000);
    return new StreamConnection(
      socket,
      (item) => octetCountingFrame(syslogMessage(item, this.#payload(item), this.#options.origin)),
      this.#timeoutMs,
    );
  }

  async #openUdp(): Promise<SinkConnection> {
    const { target, origin } = this.#options;
    const socket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
    socket.on('error', () => undefined);
    let open = true;
    const close = (): void => {
      if (open) socket.close();
      open = false;
    };
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(target.port, target.host, () => resolve());
    });
    return {
      // UDP has no acknowledgement at all (RFC 5426 §6.5): a datagram sent is all we know.
      acknowledges: true,
      send: async (items) => {
        for (const item of items) {
          const datagram = syslogDatagram(item, this.#payload(item), origin);
          await new Promise<void>((resolve, reject) =>
            socket.send(datagram, (err) => (err ? reject(err) : resolve())),
          );
        }
      },
      finish: async () => close(),
      destroy: () => close(),
    };
  }
}

/**
 * A TCP or TLS stream. Syslog has no acknowledgement, so receipt is confirmed by an orderly
 * close: we end our side and the receiver closes its own only after reading everything before
 * our end. A receiver that goes away first, or never closes, confirms nothing.
 */
class StreamConnection implements SinkConnection {
  readonly acknowledges = false;
  #failure: Error | undefined;
  #peerEnded = false;
  #finishing = false;
  readonly #closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly frame: (item: SinkItem) => Buffer,
    private readonly timeoutMs: number,
  ) {
    socket.on('error', (err) => {
      this.#failure ??= err;
    });
    socket.on('end', () => {
      this.#peerEnded = true;
      if (!this.#finishing) this.#failure ??= new Error('syslog receiver closed the connection');
    });
    // The receiver sends nothing on this connection; reading keeps 'end' coming.
    socket.resume();
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  async send(items: readonly SinkItem[]): Promise<void> {
    if (this.#failure) throw this.#failure;
    const data = Buffer.concat(items.map((item) => this.frame(item)));
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        this.socket.write(data, (err) => (err ? reject(err) : resolve())),
      ),
      this.timeoutMs,
      'syslog receiver stopped reading',
    );
    if (this.#failure) throw this.#failure;
  }

  async finish(): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#finishing = true;
    this.socket.end();
    await withTimeout(this.#closed, this.timeoutMs, 'syslog receiver did not close');
    if (this.#failure) throw this.#failure;
    if (!this.#peerEnded)
      throw new Error('syslog connection closed without the receiver ending it');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
