// One open server-streaming call of the Workload API: messages until the client goes away, the
// source fails or the sidecar stops; its cleanups run exactly once, whichever comes first.
import type { ServerWritableStream } from '@grpc/grpc-js';
import { grpcFailureOf } from './grpc-status.js';

/** A stream call the Workload API is serving. */
export class OpenStream<Message> {
  private closed = false;
  private readonly cleanups: (() => void)[] = [];

  /** Registers in `open` until closed, so stop can end every stream. */
  constructor(
    private readonly call: ServerWritableStream<unknown, Message>,
    open: Set<OpenStream<unknown>>,
  ) {
    open.add(this as OpenStream<unknown>);
    this.cleanups.push(() => open.delete(this as OpenStream<unknown>));
    // The client cancelled or its connection dropped.
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `cleanup` when the stream closes (at once if it already has). */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** Sends one message unless the stream is closed. */
  send(message: Message): void {
    if (!this.closed) this.call.write(message);
  }

  /** Ends the stream with the gRPC status for `err` (see grpc-status.ts). */
  fail(err: unknown): void {
    if (this.closed) return;
    const { code, details } = grpcFailureOf(err);
    this.close();
    // grpc-js turns an 'error' event on a server stream into the call's final status.
    this.call.emit('error', { code, details });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}
