// `bundle.pem` as the cluster's primary keeps it: one writer, the newest bundle any worker reported.
import { writeFileAtomic } from '../file/index.js';

/**
 * Writes the trust bundle the workers report. Every worker reports each bundle it loads, in any
 * order; a bundle's `sequence` moves whenever its anchors change, so the highest one seen is the
 * newest, and a report of an older or the same sequence changes nothing. Writes never overlap.
 */
export class BundleFile {
  #written = -1;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Writes `pem` unless a bundle of this or a later sequence was written already. */
  offer(sequence: number, pem: string): Promise<void> {
    if (sequence <= this.#written) return this.#queue;
    this.#written = sequence;
    this.#queue = this.#queue
      .then(() => writeFileAtomic({ path: this.file, content: pem, mode: 0o644 }))
      .catch((err: Error) => {
        // The next report of this bundle tries again.
        if (this.#written === sequence) this.#written = sequence - 1;
        this.onError(err);
      });
    return this.#queue;
  }

  /** Resolves once every write offered so far is done. */
  settled(): Promise<void> {
    return this.#queue;
  }
}
