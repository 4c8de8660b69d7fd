// The port every sink transport implements: open a connection, send items, confirm receipt.
import type { SinkItem } from './sink-item.js';

/**
 * One connection to a receiver. The sender moves the sink's cursor only past items whose
 * receipt is confirmed: after `send` when the transport {@link acknowledges} each send (an
 * HTTP 2xx), otherwise after `finish` resolves.
 */
export interface SinkConnection {
  /** True when a resolved `send` already proves receipt. */
  readonly acknowledges: boolean;
  /** Sends items in order; rejects when the connection failed. */
  send(items: readonly SinkItem[]): Promise<void>;
  /**
   * Ends the connection; resolves only once the receiver has read everything sent on it,
   * rejects when that cannot be known (the items are then sent again).
   */
  finish(): Promise<void>;
  /** Drops the connection at once (after a failure, or on shutdown). */
  destroy(): void;
}

/** A receiver: `open` connects (and authenticates it), rejecting when it cannot. */
export interface SinkTransport {
  /** The sink's name: its cursor row and its metrics label. */
  readonly name: string;
  open(): Promise<SinkConnection>;
}

/** Rejects with `message` after `ms` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
