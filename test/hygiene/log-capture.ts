// Captures log output in memory: pino destinations, and a tee of the process's stdout/stderr.
import type { DestinationStream } from 'pino';

/** Lines written to it, in order; usable as a pino destination. */
export class MemoryLog implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  text(): string {
    return this.lines.join('');
  }
}

/**
 * Copies everything written to `process.stdout` and `process.stderr` into `into` (still
 * writing it through), so a stray `console.log` in the product is captured too. Returns the
 * function that restores both streams.
 */
export function teeProcessOutput(into: MemoryLog): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    const original = originals[i]!;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      into.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
  return () => {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  };
}
